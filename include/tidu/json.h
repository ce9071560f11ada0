#ifndef TIDU_JSON_H
#define TIDU_JSON_H
/*
 * JSON (RFC 8259): a streaming writer into a tidu_buf, and a small strict
 * parser that builds a read-only tree.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/error.h"

/* Deepest nesting of arrays and objects accepted by writer and parser. */
#define TIDU_JSON_MAX_DEPTH 64

/* Largest text tidu_json_parse() accepts, in bytes. */
#define TIDU_JSON_MAX_SIZE ((size_t)16 << 20)

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/*
 * Writer state. Initialise with tidu_json_writer_init(); the fields are
 * private. No memory of its own: nothing to free.
 *
 * Commas, colons and (when pretty) newlines with 2-space indentation are
 * written automatically. Misuse (a value in an object without a key, a key
 * outside an object, nesting deeper than TIDU_JSON_MAX_DEPTH, a second
 * top-level value, an unclosed container) and bad data (invalid UTF-8, an
 * infinite or NaN number) set a sticky error: the call returns it, every
 * later call returns it and writes nothing, and tidu_json_writer_finish()
 * reports it. Callers may therefore check only the finish.
 *
 *	tidu_json_writer w;
 *	tidu_json_writer_init(&w, &buf, 0);
 *	tidu_json_begin_object(&w);
 *	tidu_json_write_key(&w, "name");
 *	tidu_json_write_string(&w, "郑州");
 *	tidu_json_end_object(&w);
 *	if ((error = tidu_json_writer_finish(&w)) < 0) ...
 *	=> {"name":"郑州"}
 */
typedef struct {
	tidu_buf *out;
	int pretty;
	int minimal;   /* TIDU_JSON_MINIMAL_ESCAPES */
	int depth;     /* open containers */
	int error;     /* first error, sticky */
	int after_key; /* a key was written, its value is due */
	int done;      /* the top-level value is complete */
	unsigned char stack[TIDU_JSON_MAX_DEPTH]; /* per level: object? has items? */
} tidu_json_writer;

/* tidu_json_writer_init() flags. */
#define TIDU_JSON_PRETTY 1          /* one member or element per line */
#define TIDU_JSON_MINIMAL_ESCAPES 2 /* escape only what RFC 8259 requires */

/*
 * Starts writing one JSON value, appended to `out` (borrowed: it must
 * outlive the writer). `pretty` has TIDU_JSON_PRETTY (1): one member or
 * element per line, indented by 2 spaces, "key": value; else no whitespace
 * at all. TIDU_JSON_MINIMAL_ESCAPES: strings escape only '"', '\\' and
 * U+0000..U+001F, the form of JSON text written before tidu escaped the
 * terminal controls too (for a caller that must reproduce such bytes).
 */
void tidu_json_writer_init(tidu_json_writer *w, tidu_buf *out, int pretty);

/* Returns 0, or the first error of the writer; TIDU_EINVAL if incomplete. */
int tidu_json_writer_finish(tidu_json_writer *w);

/* Containers. Errors (sticky): TIDU_EINVAL on misuse, see above. */
int tidu_json_begin_object(tidu_json_writer *w);
int tidu_json_end_object(tidu_json_writer *w);
int tidu_json_begin_array(tidu_json_writer *w);
int tidu_json_end_array(tidu_json_writer *w);

/* An object member's key (UTF-8 C string, escaped like a string). */
int tidu_json_write_key(tidu_json_writer *w, const char *key);

/*
 * A key that is already JSON text: `quoted` is its string literal, quotes
 * included, `len` bytes, copied without any check (the caller guarantees
 * it). For the keys that are constants of the program, which
 * tidu_json_write_key() would check and escape again on every call:
 *
 *	TIDU_JSON_KEY(&w, "name");  (a string literal that needs no escape)
 */
int tidu_json_write_key_raw(tidu_json_writer *w, const char *quoted, size_t len);
#define TIDU_JSON_KEY(w, literal) \
	tidu_json_write_key_raw((w), "\"" literal "\"", sizeof("\"" literal "\"") - 1)

/*
 * A string value: '"', '\\' and control characters escaped (\n, \r, \t, \b,
 * \f, others as \u00XX), and also, unless TIDU_JSON_MINIMAL_ESCAPES, what
 * tidu_utf8_is_control() names (DEL, C1 controls, U+2028/U+2029, bidi
 * controls) as \uXXXX, so that the text is safe on a terminal; all other
 * valid UTF-8, Chinese included, is copied byte for byte. Errors: TIDU_EINVAL for invalid UTF-8. The _len
 * form takes `len` bytes, which may include NUL (written as \u0000).
 */
int tidu_json_write_string(tidu_json_writer *w, const char *s);
int tidu_json_write_string_len(tidu_json_writer *w, const char *s, size_t len);

/* Numbers. Doubles as tidu_format_number(); non-finite is TIDU_EINVAL. */
int tidu_json_write_int64(tidu_json_writer *w, int64_t v);
int tidu_json_write_double(tidu_json_writer *w, double v);

/* true (v != 0) or false; null. */
int tidu_json_write_bool(tidu_json_writer *w, int v);
int tidu_json_write_null(tidu_json_writer *w);

/*
 * `json`, copied as one value without any check: the caller guarantees it
 * is valid JSON (e.g. a value produced by another writer).
 */
int tidu_json_write_raw(tidu_json_writer *w, const char *json);

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

typedef enum {
	TIDU_JSON_NULL,
	TIDU_JSON_BOOL,
	TIDU_JSON_NUMBER,
	TIDU_JSON_STRING,
	TIDU_JSON_ARRAY,
	TIDU_JSON_OBJECT
} tidu_json_type;

/* A parsed value. Opaque; every pointer into a tree is borrowed from it. */
typedef struct tidu_json tidu_json;

/*
 * Parses the `len` bytes at `text` (no NUL needed) as one JSON value and
 * stores the tree, owned by the caller, in `*out` (release it with
 * tidu_json_free()). Strict RFC 8259, with two deliberate limits:
 * rejected are trailing non-whitespace, invalid UTF-8, bad or incomplete
 * escapes, lone surrogates (\ud800), raw control characters in strings,
 * leading zeros, "+1", ".5", NaN/Infinity, comments, trailing commas,
 * duplicate keys in one object (ambiguous for signed data), and \u0000
 * (strings are handed out as C strings). A leading UTF-8 byte order mark
 * is skipped (Windows editors write one). Limits: TIDU_JSON_MAX_SIZE bytes,
 * TIDU_JSON_MAX_DEPTH levels of nesting.
 *
 * Errors: TIDU_EINVAL with a message giving line and column (in
 * characters, from 1), e.g. "invalid JSON at line 3, column 7: expected
 * ':'"; `*out` is then NULL.
 */
int tidu_json_parse(const char *text, size_t len, tidu_json **out) TIDU_WUR;

/* Frees a tree returned by tidu_json_parse(). NULL is a no-op. */
void tidu_json_free(tidu_json *doc);

/* The type of `v`; TIDU_JSON_NULL for a NULL pointer too. */
tidu_json_type tidu_json_typeof(const tidu_json *v);

/* Members of an object or elements of an array; 0 for other values. */
size_t tidu_json_count(const tidu_json *v);

/*
 * Element `i` of an array, or the value of member `i` (document order) of
 * an object. NULL if `v` is neither or `i` is out of range.
 */
const tidu_json *tidu_json_at(const tidu_json *v, size_t i);

/* The key of member `i` of an object (document order), or NULL. */
const char *tidu_json_key_at(const tidu_json *v, size_t i);

/* The value of member `key` of an object (O(log n)), or NULL. */
const tidu_json *tidu_json_get(const tidu_json *v, const char *key);

/* The text of a string (NUL-terminated UTF-8), or NULL if not a string. */
const char *tidu_json_as_string(const tidu_json *v);

/* The value of a number; 0 if not a number. */
double tidu_json_as_double(const tidu_json *v);

/* The literal text of a number as written in the document, or NULL. */
const char *tidu_json_number_text(const tidu_json *v);

/*
 * The value of a number written as an integer (no fraction, no exponent)
 * that fits in int64_t, exactly (no detour through double).
 * Errors: TIDU_EINVAL naming the value otherwise.
 */
int tidu_json_as_int64(const tidu_json *v, int64_t *out);

/* 1 for true, 0 for false and for anything that is not a boolean. */
int tidu_json_as_bool(const tidu_json *v);

#endif
