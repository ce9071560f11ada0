/*
 * Fuzz target for the JSON parser (json.h: tidu_json_parse), which reads
 * every signed document tidu receives (keyrings, enrollment requests).
 *
 * Every input is parsed from an exact-size copy (so a read past `len` is an
 * ASan error even under the corpus replay). When it parses:
 *  1. the input was valid UTF-8 and at most TIDU_JSON_MAX_SIZE bytes;
 *  2. the tree is walked: every string is valid UTF-8 with no NUL inside,
 *     every number's text parses, every member is found again by its key
 *     (the parser refuses duplicate keys), indexes past the end give NULL,
 *     nesting is at most TIDU_JSON_MAX_DEPTH;
 *  3. the tree is written back with the writer (compact and pretty), which
 *     must succeed; the result parses again and writes back to the same
 *     bytes (a fixpoint).
 * A broken invariant aborts. Built with libFuzzer (TIDU_FUZZ=ON, clang) and
 * as a corpus replay under ctest (tests/CMakeLists.txt).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/json.h"
#include "tidu/utf8.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_json: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

static void walk(const tidu_json *v, int depth)
{
	size_t i, n;

	check(depth <= TIDU_JSON_MAX_DEPTH + 1, "depth");
	switch (tidu_json_typeof(v)) {
	case TIDU_JSON_NULL:
	case TIDU_JSON_BOOL:
		break;
	case TIDU_JSON_NUMBER: {
		const char *t = tidu_json_number_text(v);
		int64_t i64;

		check(t && *t, "number text");
		(void)tidu_json_as_double(v);
		(void)tidu_json_as_int64(v, &i64);
		break;
	}
	case TIDU_JSON_STRING: {
		const char *s = tidu_json_as_string(v);

		check(s != NULL, "string");
		check(tidu_utf8_valid(s, strlen(s)), "string is valid UTF-8");
		break;
	}
	case TIDU_JSON_ARRAY:
		n = tidu_json_count(v);
		for (i = 0; i < n; i++) {
			check(tidu_json_at(v, i) != NULL, "element");
			walk(tidu_json_at(v, i), depth + 1);
		}
		check(tidu_json_at(v, n) == NULL, "element past the end");
		break;
	case TIDU_JSON_OBJECT:
		n = tidu_json_count(v);
		for (i = 0; i < n; i++) {
			const char *k = tidu_json_key_at(v, i);

			check(k != NULL && tidu_utf8_valid(k, strlen(k)), "key");
			check(tidu_json_get(v, k) == tidu_json_at(v, i), "member by key");
			walk(tidu_json_at(v, i), depth + 1);
		}
		check(tidu_json_at(v, n) == NULL && tidu_json_key_at(v, n) == NULL,
		      "member past the end");
		break;
	default:
		check(0, "type");
	}
}

static void emit(tidu_json_writer *w, const tidu_json *v)
{
	size_t i, n;

	switch (tidu_json_typeof(v)) {
	case TIDU_JSON_NULL:
		tidu_json_write_null(w);
		break;
	case TIDU_JSON_BOOL:
		tidu_json_write_bool(w, tidu_json_as_bool(v));
		break;
	case TIDU_JSON_NUMBER:
		tidu_json_write_raw(w, tidu_json_number_text(v));
		break;
	case TIDU_JSON_STRING:
		tidu_json_write_string(w, tidu_json_as_string(v));
		break;
	case TIDU_JSON_ARRAY:
		tidu_json_begin_array(w);
		n = tidu_json_count(v);
		for (i = 0; i < n; i++)
			emit(w, tidu_json_at(v, i));
		tidu_json_end_array(w);
		break;
	case TIDU_JSON_OBJECT:
		tidu_json_begin_object(w);
		n = tidu_json_count(v);
		for (i = 0; i < n; i++) {
			tidu_json_write_key(w, tidu_json_key_at(v, i));
			emit(w, tidu_json_at(v, i));
		}
		tidu_json_end_object(w);
		break;
	}
}

static void write_back(const tidu_json *doc, int pretty, tidu_buf *out)
{
	tidu_json_writer w;

	tidu_buf_clear(out);
	tidu_json_writer_init(&w, out, pretty);
	emit(&w, doc);
	check(tidu_json_writer_finish(&w) == 0, "the writer takes what the parser gave");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	tidu_json *doc = NULL, *again = NULL;
	tidu_buf a = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	int pretty, rc;

	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	rc = tidu_json_parse(copy, size, &doc);
	if (rc < 0) {
		check(doc == NULL, "no tree on failure");
		check(rc == TIDU_EINVAL && *tidu_error_message(), "failure is EINVAL with a message");
		goto done;
	}
	check(doc != NULL, "a tree on success");
	check(size <= TIDU_JSON_MAX_SIZE, "size limit");
	check(tidu_utf8_valid(copy, size), "input was valid UTF-8");
	walk(doc, 1);
	for (pretty = 0; pretty <= 1; pretty++) {
		write_back(doc, pretty, &a);
		check(tidu_json_parse(a.ptr, a.len, &again) == 0, "what the writer wrote parses");
		write_back(again, pretty, &b);
		check(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0, "write-back fixpoint");
		tidu_json_free(again);
		again = NULL;
	}
done:
	tidu_json_free(doc);
	tidu_buf_free(&a);
	tidu_buf_free(&b);
	free(copy);
	return 0;
}
