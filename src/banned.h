#ifndef TIDU_BANNED_H
#define TIDU_BANNED_H
/*
 * C library calls tidu's own code must not make (docs/conventions.md,
 * "Strings"): they write past buffers (strcpy, strcat, sprintf, gets), do not
 * terminate (strncpy), cannot report a bad number (atoi & co: use
 * tidu_parse_*), or hand out shared static storage (strtok, localtime,
 * gmtime, ctime, asctime: use the _r forms with a buffer; ctime_r and
 * asctime_r are banned too, as they assume one). Use snprintf and tidu_buf.
 *
 * The build puts this file before every source file of libtidu and tidu
 * (CMake: -include), so it includes no header of its own: a file may still
 * define _GNU_SOURCE before its first #include. Each function is declared
 * again, deprecated: a declaration is compatible with the library's own,
 * whichever comes first, and any call is then a compile error (below), in
 * our code only, since compilers say nothing of system headers.
 */
#if defined(__GNUC__) || defined(__clang__)

#pragma GCC diagnostic error "-Wdeprecated-declarations"

#define TIDU_BANNED_(why) __attribute__((__deprecated__("banned in tidu: " why)))

char *strcpy(char *restrict, const char *restrict) TIDU_BANNED_("use snprintf or tidu_buf");
char *strcat(char *restrict, const char *restrict) TIDU_BANNED_("use snprintf or tidu_buf");
char *strncpy(char *restrict, const char *restrict, __SIZE_TYPE__)
	TIDU_BANNED_("use snprintf or tidu_buf");
char *strncat(char *restrict, const char *restrict, __SIZE_TYPE__)
	TIDU_BANNED_("use snprintf or tidu_buf");
int sprintf(char *restrict, const char *restrict, ...) TIDU_BANNED_("use snprintf");
int vsprintf(char *restrict, const char *restrict, __builtin_va_list)
	TIDU_BANNED_("use vsnprintf");
int atoi(const char *) TIDU_BANNED_("use tidu_parse_int64");
long atol(const char *) TIDU_BANNED_("use tidu_parse_int64");
long long atoll(const char *) TIDU_BANNED_("use tidu_parse_int64");
char *gets(char *) TIDU_BANNED_("use fgets");
char *strtok(char *restrict, const char *restrict) TIDU_BANNED_("use strtok_r or strcspn");

/*
 * time_t has no built-in name to spell these prototypes with, and <time.h>
 * may not be included here: declarations without a parameter list are
 * compatible with the library's all the same.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
struct tm;
struct tm *localtime() TIDU_BANNED_("use localtime_r");
struct tm *gmtime() TIDU_BANNED_("use gmtime_r");
char *ctime() TIDU_BANNED_("use localtime_r and strftime");
char *ctime_r() TIDU_BANNED_("use localtime_r and strftime");
char *asctime() TIDU_BANNED_("use strftime");
char *asctime_r() TIDU_BANNED_("use strftime");
#pragma GCC diagnostic pop

#endif
#endif
