/*
 * Small helpers every sync file uses: libgit2 errors, object ids, the
 * report's refusals and notes.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "core/sync/sync_int.h"

/* Sets the error from libgit2's last error, prefixed by `what`. */
int sync_git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();

	return tidu_error_set(code, "%s: %s", what,
			      e && e->message ? e->message : _("unknown git error"));
}

void sync_oid_hex(const git_oid *oid, char out[OID_HEX])
{
	git_oid_tostr(out, OID_HEX, oid);
}

int sync_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Runs one statement without results; `what` names it in errors. */
int sync_exec1(tidu_store *s, sqlite3_stmt *st, const char *what)
{
	return tidu_store_exec(s, st, what);
}

static void add_line(char ***v, size_t *n, const char *fmt, va_list ap)
	TIDU_PRINTF(3, 0);

static void add_line(char ***v, size_t *n, const char *fmt, va_list ap)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_vprintf(&b, fmt, ap);
	*v = tidu_reallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = tidu_buf_detach(&b);
}

void sync_refuse(tidu_sync_report *rep, const char *fmt, ...)
{
	va_list ap;

	rep->rejected++;
	va_start(ap, fmt);
	add_line(&rep->problems, &rep->nproblems, fmt, ap);
	va_end(ap);
}

void sync_note(tidu_sync_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&rep->notes, &rep->nnotes, fmt, ap);
	va_end(ap);
}

void tidu_sync_report_free(tidu_sync_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->nproblems; i++)
		free(rep->problems[i]);
	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->problems);
	free(rep->notes);
	rep->problems = rep->notes = NULL;
	rep->nproblems = rep->nnotes = 0;
}
