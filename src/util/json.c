#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/alloc.h"
#include "tidu/i18n.h"
#include "tidu/json.h"
#include "tidu/parse.h"
#include "tidu/utf8.h"

/* ================================================================== */
/* Writer                                                              */
/* ================================================================== */

#define LEVEL_OBJECT 1u /* the open container is an object, not an array */
#define LEVEL_ITEMS 2u  /* it has at least one member or element */

/*
 * tidu_buf_put and tidu_buf_putc without a call when there is room: the
 * writer adds a few bytes at a time, hundreds of times a line.
 */
static inline void put(tidu_buf *out, const char *s, size_t n)
{
	if (!out->ptr || out->cap - out->len <= n)
		tidu_buf_grow(out, n);
	memcpy(out->ptr + out->len, s, n);
	out->len += n;
	out->ptr[out->len] = '\0';
}

static inline void put_byte(tidu_buf *out, char c)
{
	if (!out->ptr || out->cap - out->len <= 1)
		tidu_buf_grow(out, 1);
	out->ptr[out->len++] = c;
	out->ptr[out->len] = '\0';
}

void tidu_json_writer_init(tidu_json_writer *w, tidu_buf *out, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty & TIDU_JSON_PRETTY;
	w->minimal = (pretty & TIDU_JSON_MINIMAL_ESCAPES) != 0;
}

static int misuse(tidu_json_writer *w, const char *what)
{
	if (!w->error)
		w->error = tidu_error_set(TIDU_EINVAL, _("cannot write JSON: %s"), what);
	return w->error;
}

static void newline(tidu_json_writer *w)
{
	int i;

	if (!w->pretty)
		return;
	put_byte(w->out, '\n');
	for (i = 0; i < w->depth; i++)
		tidu_buf_put(w->out, "  ", 2);
}

/* Separators before a value (not a key); checks that a value may come. */
static int before_value(tidu_json_writer *w)
{
	unsigned char *top;

	if (w->error)
		return w->error;
	if (w->done)
		return misuse(w, _("more than one top-level value"));
	if (w->depth == 0)
		return 0;
	top = &w->stack[w->depth - 1];
	if (*top & LEVEL_OBJECT) {
		if (!w->after_key)
			return misuse(w, _("object member without a key"));
		w->after_key = 0;
		return 0;
	}
	if (*top & LEVEL_ITEMS)
		put_byte(w->out, ',');
	*top |= LEVEL_ITEMS;
	newline(w);
	return 0;
}

static void after_value(tidu_json_writer *w)
{
	if (w->depth == 0)
		w->done = 1;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The number of bytes at the start of `s` that a string copies as they are
 * (printable ASCII but '"' and '\\'; DEL too when `minimal`), 8 at a time:
 * a byte of a word is below 0x20, or equal to a byte c (zero after ^ c*ONES),
 * when subtracting borrows into its high bit.
 */
static size_t plain_run(const char *s, size_t len, int minimal)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x, q, b, d;

		memcpy(&x, s + i, 8);
		q = x ^ (ONES * '"');
		b = x ^ (ONES * '\\');
		d = minimal ? HIGHS : x ^ (ONES * 0x7F);
		if (((x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) |
		      ((d - ONES) & ~d)) & HIGHS) != 0)
			break;
	}
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || (c == 0x7F && !minimal))
			break;
		i++;
	}
	return i;
}

/*
 * Writes `s` as a JSON string, or returns -1 if it is not valid UTF-8 (and
 * then `out` is as it was). RFC 8259 needs only '"', '\\' and
 * U+0000..U+001F escaped; unless `minimal`, every other character a
 * terminal would interpret or that reorders a line (tidu_utf8_is_control:
 * DEL, C1 controls, U+2028/U+2029, bidi controls) is written as \uXXXX too,
 * so that JSON shown raw on a terminal is as safe as the text output. All
 * of them are in the BMP: one \uXXXX each, read back byte for byte. Runs
 * that need no escape are copied at once.
 */
static int put_escaped(tidu_buf *out, const char *s, size_t len, int minimal)
{
	static const char hex[] = "0123456789abcdef";
	size_t mark = out->len, i = 0, run = 0;

	tidu_buf_grow(out, len + 2);
	out->ptr[out->len++] = '"';
	while (i < len) {
		unsigned char c;
		const char *esc = NULL;
		uint32_t cp;
		size_t n = 1;
		char u[6];

		i += plain_run(s + i, len - i, minimal);
		if (i >= len)
			break;
		c = (unsigned char)s[i];
		cp = c;
		if (c >= 0x80) {
			int k = tidu_utf8_decode(s + i, len - i, &cp);

			if (k <= 0) {
				tidu_buf_truncate(out, mark);
				return -1;
			}
			n = (size_t)k;
			if (minimal || !tidu_utf8_is_control(cp)) {
				i += n;
				continue;
			}
		}
		put(out, s + run, i - run);
		i += n;
		run = i;
		switch (cp) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			u[0] = '\\';
			u[1] = 'u';
			u[2] = hex[(cp >> 12) & 0xF];
			u[3] = hex[(cp >> 8) & 0xF];
			u[4] = hex[(cp >> 4) & 0xF];
			u[5] = hex[cp & 0xF];
			put(out, u, 6);
			continue;
		}
		put(out, esc, 2);
	}
	put(out, s + run, len - run);
	put_byte(out, '"');
	return 0;
}

static int begin(tidu_json_writer *w, unsigned char kind, char open)
{
	int error;

	if (w->error)
		return w->error;
	if (w->depth >= TIDU_JSON_MAX_DEPTH)
		return misuse(w, _("nesting too deep"));
	if ((error = before_value(w)) < 0)
		return error;
	put_byte(w->out, open);
	w->stack[w->depth++] = kind;
	return 0;
}

static int end(tidu_json_writer *w, unsigned char kind, char close)
{
	unsigned char top;

	if (w->error)
		return w->error;
	if (w->depth == 0 || (w->stack[w->depth - 1] & LEVEL_OBJECT) != kind)
		return misuse(w, kind ? _("end of an object that is not open")
				      : _("end of an array that is not open"));
	if (w->after_key)
		return misuse(w, _("key without a value"));
	top = w->stack[--w->depth];
	if (top & LEVEL_ITEMS)
		newline(w);
	put_byte(w->out, close);
	after_value(w);
	return 0;
}

int tidu_json_begin_object(tidu_json_writer *w)
{
	return begin(w, LEVEL_OBJECT, '{');
}

int tidu_json_end_object(tidu_json_writer *w)
{
	return end(w, LEVEL_OBJECT, '}');
}

int tidu_json_begin_array(tidu_json_writer *w)
{
	return begin(w, 0, '[');
}

int tidu_json_end_array(tidu_json_writer *w)
{
	return end(w, 0, ']');
}

int tidu_json_write_key(tidu_json_writer *w, const char *key)
{
	unsigned char *top;
	size_t mark;

	if (w->error)
		return w->error;
	if (w->depth == 0 || !(w->stack[w->depth - 1] & LEVEL_OBJECT))
		return misuse(w, _("key outside an object"));
	if (w->after_key)
		return misuse(w, _("key without a value"));
	top = &w->stack[w->depth - 1];
	mark = w->out->len;
	if (*top & LEVEL_ITEMS)
		put_byte(w->out, ',');
	newline(w);
	if (put_escaped(w->out, key, strlen(key), w->minimal) < 0) {
		tidu_buf_truncate(w->out, mark);
		return misuse(w, _("key is not valid UTF-8"));
	}
	*top |= LEVEL_ITEMS;
	if (w->pretty)
		put(w->out, ": ", 2);
	else
		put_byte(w->out, ':');
	w->after_key = 1;
	return 0;
}

int tidu_json_write_key_raw(tidu_json_writer *w, const char *quoted, size_t len)
{
	unsigned char *top;

	if (w->error)
		return w->error;
	if (w->depth == 0 || !(w->stack[w->depth - 1] & LEVEL_OBJECT))
		return misuse(w, _("key outside an object"));
	if (w->after_key)
		return misuse(w, _("key without a value"));
	top = &w->stack[w->depth - 1];
	if (*top & LEVEL_ITEMS)
		put_byte(w->out, ',');
	*top |= LEVEL_ITEMS;
	newline(w);
	put(w->out, quoted, len);
	if (w->pretty)
		put(w->out, ": ", 2);
	else
		put_byte(w->out, ':');
	w->after_key = 1;
	return 0;
}

int tidu_json_write_string_len(tidu_json_writer *w, const char *s, size_t len)
{
	unsigned char top = 0;
	size_t mark = w->out->len;
	int error, after_key = w->after_key;

	if (w->error)
		return w->error;
	if (w->depth)
		top = w->stack[w->depth - 1];
	if ((error = before_value(w)) < 0)
		return error;
	if (put_escaped(w->out, s, len, w->minimal) < 0) {
		/* As if nothing was written: the separator goes too. */
		tidu_buf_truncate(w->out, mark);
		if (w->depth)
			w->stack[w->depth - 1] = top;
		w->after_key = after_key;
		return misuse(w, _("string is not valid UTF-8"));
	}
	after_value(w);
	return 0;
}

int tidu_json_write_string(tidu_json_writer *w, const char *s)
{
	return tidu_json_write_string_len(w, s, strlen(s));
}

int tidu_json_write_int64(tidu_json_writer *w, int64_t v)
{
	int error;

	if ((error = before_value(w)) < 0)
		return error;
	tidu_format_int64(w->out, v);
	after_value(w);
	return 0;
}

int tidu_json_write_double(tidu_json_writer *w, double v)
{
	int error;

	if (w->error)
		return w->error;
	if (!isfinite(v))
		return misuse(w, _("number is infinite or not a number"));
	if ((error = before_value(w)) < 0)
		return error;
	tidu_format_number(w->out, v);
	after_value(w);
	return 0;
}

static int write_literal(tidu_json_writer *w, const char *text)
{
	int error;

	if ((error = before_value(w)) < 0)
		return error;
	put(w->out, text, strlen(text));
	after_value(w);
	return 0;
}

int tidu_json_write_bool(tidu_json_writer *w, int v)
{
	return write_literal(w, v ? "true" : "false");
}

int tidu_json_write_null(tidu_json_writer *w)
{
	return write_literal(w, "null");
}

int tidu_json_write_raw(tidu_json_writer *w, const char *json)
{
	return write_literal(w, json);
}

int tidu_json_writer_finish(tidu_json_writer *w)
{
	if (w->error)
		return w->error;
	if (!w->done)
		return misuse(w, _("document is incomplete"));
	return 0;
}

/* ================================================================== */
/* Parser                                                              */
/* ================================================================== */

/* An object member in key order, for lookups and the duplicate check. */
typedef struct {
	const char *key;
	size_t index; /* position in document order */
	size_t pos;   /* byte offset of the key in the text, for messages */
} member_ref;

struct tidu_json {
	tidu_json_type type;
	union {
		int boolean;
		struct {
			double value;
			char *text;
		} number;
		char *string;
		struct {
			size_t count;
			tidu_json **items;  /* elements, or member values */
			char **keys;        /* objects: member keys, document order */
			member_ref *sorted; /* objects: members sorted by key */
		} container;
	} u;
};

typedef struct {
	const char *text;
	size_t len;
	size_t pos;
} parser;

/* Sets the error at byte offset `pos`, with line and column. */
static int syntax_error(const parser *p, size_t pos, const char *reason)
{
	size_t line = 1, column = 1, i;

	for (i = 0; i < pos && i < p->len; i++) {
		unsigned char c = (unsigned char)p->text[i];

		if (c == '\n') {
			line++;
			column = 1;
		} else if ((c & 0xC0) != 0x80) {
			column++;
		}
	}
	return tidu_error_set(TIDU_EINVAL, _("invalid JSON at line %zu, column %zu: %s"),
			      line, column, reason);
}

/* "unexpected character 'x'" for whatever is at `pos`. */
static int unexpected(const parser *p, size_t pos)
{
	tidu_buf what = TIDU_BUF_INIT, c = TIDU_BUF_INIT;
	uint32_t cp;
	int n, error;

	if (pos >= p->len)
		return syntax_error(p, pos, _("unexpected end of text"));
	n = tidu_utf8_decode(p->text + pos, p->len - pos, &cp);
	if (n == 0)
		return syntax_error(p, pos, _("invalid UTF-8"));
	if (tidu_utf8_is_control(cp))
		tidu_buf_printf(&c, "U+%04X", (unsigned)cp);
	else
		tidu_buf_put(&c, p->text + pos, (size_t)n);
	tidu_buf_printf(&what, _("unexpected character '%s'"), tidu_buf_cstr(&c));
	error = syntax_error(p, pos, tidu_buf_cstr(&what));
	tidu_buf_free(&what);
	tidu_buf_free(&c);
	return error;
}

static void skip_ws(parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int peek(const parser *p)
{
	return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hex4(const parser *p, size_t at, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (at + 4 > p->len)
		return -1;
	for (i = at; i < at + 4; i++) {
		char c = p->text[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parses a string at p->pos (on the opening quote) into `out`. */
static int parse_string(parser *p, tidu_buf *out)
{
	size_t start = p->pos;

	tidu_buf_clear(out);
	p->pos++;
	for (;;) {
		unsigned char c;
		uint32_t cp, lo;
		char enc[4];
		int n;

		if (p->pos >= p->len)
			return syntax_error(p, start, _("unterminated string"));
		c = (unsigned char)p->text[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return syntax_error(p, p->pos, _("control character in string"));
		if (c >= 0x80) {
			n = tidu_utf8_decode(p->text + p->pos, p->len - p->pos, &cp);
			if (n == 0)
				return syntax_error(p, p->pos, _("invalid UTF-8"));
			tidu_buf_put(out, p->text + p->pos, (size_t)n);
			p->pos += (size_t)n;
			continue;
		}
		if (c != '\\') {
			size_t run = p->pos;

			while (p->pos < p->len) {
				c = (unsigned char)p->text[p->pos];
				if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
					break;
				p->pos++;
			}
			tidu_buf_put(out, p->text + run, p->pos - run);
			continue;
		}
		/* An escape. */
		if (p->pos + 1 >= p->len)
			return syntax_error(p, start, _("unterminated string"));
		switch (p->text[p->pos + 1]) {
		case '"': tidu_buf_putc(out, '"'); break;
		case '\\': tidu_buf_putc(out, '\\'); break;
		case '/': tidu_buf_putc(out, '/'); break;
		case 'b': tidu_buf_putc(out, '\b'); break;
		case 'f': tidu_buf_putc(out, '\f'); break;
		case 'n': tidu_buf_putc(out, '\n'); break;
		case 'r': tidu_buf_putc(out, '\r'); break;
		case 't': tidu_buf_putc(out, '\t'); break;
		case 'u':
			if (hex4(p, p->pos + 2, &cp) < 0)
				return syntax_error(p, p->pos, _("invalid \\u escape"));
			if (cp == 0)
				return syntax_error(p, p->pos, _("\\u0000 is not supported"));
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return syntax_error(p, p->pos, _("lone surrogate in \\u escape"));
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p->pos + 7 >= p->len || p->text[p->pos + 6] != '\\' ||
				    p->text[p->pos + 7] != 'u' || hex4(p, p->pos + 8, &lo) < 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return syntax_error(p, p->pos, _("lone surrogate in \\u escape"));
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p->pos += 6;
			}
			tidu_buf_put(out, enc, (size_t)tidu_utf8_encode(cp, enc));
			p->pos += 4;
			break;
		default:
			return syntax_error(p, p->pos, _("invalid escape in string"));
		}
		p->pos += 2;
	}
	if (!out->ptr)
		tidu_buf_grow(out, 0); /* "" is a string too */
	return 0;
}

static int parse_number(parser *p, tidu_json *v)
{
	size_t start = p->pos;
	double value;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
		if (is_digit(peek(p)))
			return syntax_error(p, start, _("leading zero in number"));
	} else if (is_digit(peek(p))) {
		while (is_digit(peek(p)))
			p->pos++;
	} else {
		return unexpected(p, start);
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!is_digit(peek(p)))
			return syntax_error(p, start, _("invalid number"));
		while (is_digit(peek(p)))
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!is_digit(peek(p)))
			return syntax_error(p, start, _("invalid number"));
		while (is_digit(peek(p)))
			p->pos++;
	}
	v->u.number.text = tidu_strndup(p->text + start, p->pos - start);
	value = tidu_strtod_c(v->u.number.text, NULL);
	if (!isfinite(value))
		return syntax_error(p, start, _("number out of range"));
	v->u.number.value = value;
	return 0;
}

static int parse_literal(parser *p, tidu_json *v)
{
	static const struct {
		const char *text;
		tidu_json_type type;
		int boolean;
	} literals[] = {
		{"true", TIDU_JSON_BOOL, 1},
		{"false", TIDU_JSON_BOOL, 0},
		{"null", TIDU_JSON_NULL, 0},
	};
	size_t i, n;

	for (i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		n = strlen(literals[i].text);
		if (p->len - p->pos >= n && memcmp(p->text + p->pos, literals[i].text, n) == 0) {
			v->type = literals[i].type;
			v->u.boolean = literals[i].boolean;
			p->pos += n;
			return 0;
		}
	}
	return unexpected(p, p->pos);
}

static int parse_value(parser *p, int depth, tidu_json **out);

static void push_item(tidu_json *v, size_t *cap, tidu_json *item, char *key)
{
	if (v->u.container.count == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		v->u.container.items = tidu_reallocarray(v->u.container.items, *cap,
							 sizeof(tidu_json *));
		if (v->type == TIDU_JSON_OBJECT)
			v->u.container.keys = tidu_reallocarray(v->u.container.keys, *cap,
								sizeof(char *));
	}
	v->u.container.items[v->u.container.count] = item;
	if (v->type == TIDU_JSON_OBJECT)
		v->u.container.keys[v->u.container.count] = key;
	v->u.container.count++;
}

static int compare_refs(const void *a, const void *b)
{
	const member_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts the members of `v` by key; the second of two equal keys is an error. */
static int index_members(parser *p, tidu_json *v, const size_t *key_pos)
{
	size_t n = v->u.container.count, i;
	member_ref *refs;

	if (n == 0)
		return 0;
	refs = tidu_reallocarray(NULL, n, sizeof(*refs));
	for (i = 0; i < n; i++) {
		refs[i].key = v->u.container.keys[i];
		refs[i].index = i;
		refs[i].pos = key_pos[i];
	}
	qsort(refs, n, sizeof(*refs), compare_refs);
	v->u.container.sorted = refs;
	for (i = 1; i < n; i++) {
		if (strcmp(refs[i - 1].key, refs[i].key) == 0) {
			tidu_buf key = TIDU_BUF_INIT, reason = TIDU_BUF_INIT;
			int error;

			tidu_utf8_excerpt(&key, refs[i].key, 64);
			tidu_buf_printf(&reason, _("duplicate key '%s'"), tidu_buf_cstr(&key));
			error = syntax_error(p, refs[i].pos, tidu_buf_cstr(&reason));
			tidu_buf_free(&key);
			tidu_buf_free(&reason);
			return error;
		}
	}
	return 0;
}

static int parse_container(parser *p, int depth, tidu_json *v)
{
	int is_object = p->text[p->pos] == '{';
	char close = is_object ? '}' : ']';
	tidu_buf key = TIDU_BUF_INIT;
	size_t cap = 0, pos_cap = 0, *key_pos = NULL;
	int error = 0;

	v->type = is_object ? TIDU_JSON_OBJECT : TIDU_JSON_ARRAY;
	if (depth > TIDU_JSON_MAX_DEPTH) {
		error = syntax_error(p, p->pos, _("nesting too deep"));
		goto done;
	}
	p->pos++;
	skip_ws(p);
	if (peek(p) == close) {
		p->pos++;
		goto done;
	}
	for (;;) {
		tidu_json *item = NULL;
		char *k = NULL;

		skip_ws(p);
		if (is_object) {
			if (peek(p) != '"') {
				error = peek(p) < 0 ? unexpected(p, p->pos)
						    : syntax_error(p, p->pos, _("expected a string key"));
				goto done;
			}
			if (v->u.container.count == pos_cap) {
				pos_cap = pos_cap ? pos_cap * 2 : 4;
				key_pos = tidu_reallocarray(key_pos, pos_cap, sizeof(size_t));
			}
			key_pos[v->u.container.count] = p->pos;
			if ((error = parse_string(p, &key)) < 0)
				goto done;
			skip_ws(p);
			if (peek(p) != ':') {
				error = syntax_error(p, p->pos, _("expected ':'"));
				goto done;
			}
			p->pos++;
		}
		if ((error = parse_value(p, depth, &item)) < 0) {
			tidu_json_free(item);
			goto done;
		}
		if (is_object)
			k = tidu_buf_detach(&key);
		push_item(v, &cap, item, k);
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == close) {
			p->pos++;
			break;
		}
		error = syntax_error(p, p->pos,
				     is_object ? _("expected ',' or '}'") : _("expected ',' or ']'"));
		goto done;
	}
	if (is_object)
		error = index_members(p, v, key_pos);
done:
	tidu_buf_free(&key);
	free(key_pos);
	return error;
}

/* Parses one value; `depth` is the nesting depth of its container. */
static int parse_value(parser *p, int depth, tidu_json **out)
{
	tidu_json *v = tidu_calloc(1, sizeof(*v));
	tidu_buf s = TIDU_BUF_INIT;
	int c, error = 0;

	*out = v; /* even on error, so that the caller frees it with the tree */
	skip_ws(p);
	c = peek(p);
	switch (c) {
	case '{':
	case '[':
		error = parse_container(p, depth + 1, v);
		break;
	case '"':
		v->type = TIDU_JSON_STRING;
		if ((error = parse_string(p, &s)) == 0)
			v->u.string = tidu_buf_detach(&s);
		break;
	case 't':
	case 'f':
	case 'n':
		error = parse_literal(p, v);
		break;
	default:
		if (c == '-' || is_digit(c)) {
			v->type = TIDU_JSON_NUMBER;
			error = parse_number(p, v);
		} else {
			error = unexpected(p, p->pos);
		}
		break;
	}
	tidu_buf_free(&s);
	return error;
}

int tidu_json_parse(const char *text, size_t len, tidu_json **out)
{
	parser p = {text, len, 0};
	tidu_json *doc = NULL;
	int error;

	*out = NULL;
	if (len > TIDU_JSON_MAX_SIZE)
		return tidu_error_set(TIDU_EINVAL, _("JSON text is larger than %zu bytes"),
				      TIDU_JSON_MAX_SIZE);
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3;
	if ((error = parse_value(&p, 0, &doc)) < 0)
		goto done;
	skip_ws(&p);
	if (p.pos < p.len) {
		error = syntax_error(&p, p.pos, _("unexpected text after the value"));
		goto done;
	}
	*out = doc;
	doc = NULL;
done:
	tidu_json_free(doc);
	return error;
}

void tidu_json_free(tidu_json *v)
{
	size_t i;

	if (!v)
		return;
	switch (v->type) {
	case TIDU_JSON_NUMBER:
		free(v->u.number.text);
		break;
	case TIDU_JSON_STRING:
		free(v->u.string);
		break;
	case TIDU_JSON_ARRAY:
	case TIDU_JSON_OBJECT:
		for (i = 0; i < v->u.container.count; i++) {
			tidu_json_free(v->u.container.items[i]);
			if (v->u.container.keys)
				free(v->u.container.keys[i]);
		}
		free(v->u.container.items);
		free(v->u.container.keys);
		free(v->u.container.sorted);
		break;
	default:
		break;
	}
	free(v);
}

tidu_json_type tidu_json_typeof(const tidu_json *v)
{
	return v ? v->type : TIDU_JSON_NULL;
}

static int is_container(const tidu_json *v)
{
	return v && (v->type == TIDU_JSON_ARRAY || v->type == TIDU_JSON_OBJECT);
}

size_t tidu_json_count(const tidu_json *v)
{
	return is_container(v) ? v->u.container.count : 0;
}

const tidu_json *tidu_json_at(const tidu_json *v, size_t i)
{
	if (!is_container(v) || i >= v->u.container.count)
		return NULL;
	return v->u.container.items[i];
}

const char *tidu_json_key_at(const tidu_json *v, size_t i)
{
	if (!v || v->type != TIDU_JSON_OBJECT || i >= v->u.container.count)
		return NULL;
	return v->u.container.keys[i];
}

const tidu_json *tidu_json_get(const tidu_json *v, const char *key)
{
	size_t lo = 0, hi;

	if (!v || v->type != TIDU_JSON_OBJECT)
		return NULL;
	hi = v->u.container.count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, v->u.container.sorted[mid].key);

		if (c == 0)
			return v->u.container.items[v->u.container.sorted[mid].index];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *tidu_json_as_string(const tidu_json *v)
{
	return v && v->type == TIDU_JSON_STRING ? v->u.string : NULL;
}

double tidu_json_as_double(const tidu_json *v)
{
	return v && v->type == TIDU_JSON_NUMBER ? v->u.number.value : 0;
}

const char *tidu_json_number_text(const tidu_json *v)
{
	return v && v->type == TIDU_JSON_NUMBER ? v->u.number.text : NULL;
}

int tidu_json_as_int64(const tidu_json *v, int64_t *out)
{
	tidu_buf q = TIDU_BUF_INIT;
	int error;

	if (!v || v->type != TIDU_JSON_NUMBER)
		return tidu_error_set(TIDU_EINVAL, "%s", _("JSON value is not a number"));
	if (strpbrk(v->u.number.text, ".eE") == NULL)
		return tidu_parse_int64(v->u.number.text, out);
	tidu_utf8_excerpt(&q, v->u.number.text, 64);
	error = tidu_error_set(TIDU_EINVAL, _("invalid integer '%s'"), tidu_buf_cstr(&q));
	tidu_buf_free(&q);
	return error;
}

int tidu_json_as_bool(const tidu_json *v)
{
	return v && v->type == TIDU_JSON_BOOL && v->u.boolean;
}
