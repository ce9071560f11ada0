/*
 * Fuzz target for the XLSForm expression language (expr.h): the parser and
 * the evaluator, which run every relevant, constraint and calculation of a
 * survey form.
 *
 * The input (up to its first NUL) is the expression. Checks:
 *  1. parsing: success gives an expression, failure TIDU_EINVAL with a
 *     message "at character N: ..." and no expression;
 *  2. refs: each non-NULL, non-empty, listed once; one past the end NULL;
 *  3. evaluation through a dummy lookup (strings, numbers, booleans, dates,
 *     select_multiple codes, "" by a hash of the name; repeats of 0-3
 *     values): 0 or TIDU_EINVAL (a bound), a string result within
 *     TIDU_EXPR_MAX_STRING and its string() form always computable;
 *  4. evaluating again gives the same result (parse once, evaluate many);
 *     with max_steps 1..20 it may stop, but only with TIDU_EINVAL.
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
#include "tidu/expr.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_expr: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static char *dup_str(const char *s)
{
	char *c = strdup(s);

	if (!c)
		abort();
	return c;
}

static void fill(const char *name, unsigned salt, tidu_expr_value *out)
{
	static const char *const strs[] = {"", "3", "a b  c", "2025-01-02",
					   "2025-01-02T10:30:00+08:00", "郑州", " 12.5 ",
					   "-0", "NaN", "x"};
	unsigned h = hash(name) + salt;

	switch (h % 4) {
	case 0:
		out->kind = TIDU_EXPR_NUMBER;
		out->num = (double)(int)(h % 201) - 100.5;
		break;
	case 1:
		out->kind = TIDU_EXPR_BOOL;
		out->num = h & 8 ? 1 : 0;
		break;
	default:
		out->kind = TIDU_EXPR_STRING;
		out->str = dup_str(strs[(h / 4) % (sizeof(strs) / sizeof(strs[0]))]);
	}
}

static int lookup(void *ctx, const char *name, tidu_expr_value *out)
{
	(void)ctx;
	if (name && strcmp(name, "fail") == 0)
		return tidu_error_set(TIDU_ENOTFOUND, "no '%s'", name);
	fill(name ? name : ".", 0, out);
	return 0;
}

static size_t values(void *ctx, const char *name, tidu_expr_value *out, size_t max)
{
	size_t i, n = hash(name) % 4;

	(void)ctx;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		fill(name, (unsigned)i * 7 + 1, &out[i]);
	return n;
}

static int eval_to(const tidu_expr *e, const tidu_expr_env *env, tidu_buf *out)
{
	tidu_expr_value v;
	int rc = tidu_expr_eval(e, env, &v);

	if (rc < 0) {
		check(rc == TIDU_EINVAL || rc == TIDU_ENOTFOUND, "eval fails with EINVAL or the lookup's code");
		check(v.kind != TIDU_EXPR_STRING || v.str == NULL, "no result left on failure");
		return rc;
	}
	check(v.kind == TIDU_EXPR_STRING || v.kind == TIDU_EXPR_NUMBER ||
	      v.kind == TIDU_EXPR_BOOL, "a result kind");
	if (v.kind == TIDU_EXPR_STRING)
		check(!v.str || strlen(v.str) <= TIDU_EXPR_MAX_STRING, "string bound");
	(void)tidu_expr_truthy(&v);
	(void)tidu_expr_number(&v);
	tidu_expr_string(&v, out);
	tidu_buf_putc(out, (char)('0' + v.kind));
	tidu_expr_value_clear(&v);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidu_buf a = TIDU_BUF_INIT, b = TIDU_BUF_INIT;
	tidu_expr_env env = {0};
	tidu_expr *e = (tidu_expr *)&env;
	size_t i, j, n;
	char *text;
	int rc, rc2;

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	rc = tidu_expr_parse(text, &e);
	if (rc < 0) {
		check(rc == TIDU_EINVAL && e == NULL, "parse fails with EINVAL and no result");
		check(strncmp(tidu_error_message(), "at character ", 13) == 0,
		      "parse message names the position");
		free(text);
		return 0;
	}
	check(rc == 0 && e != NULL, "a result on success");
	n = tidu_expr_ref_count(e);
	for (i = 0; i < n; i++) {
		const char *r = tidu_expr_ref(e, i);

		check(r && *r, "ref");
		for (j = 0; j < i; j++)
			check(strcmp(r, tidu_expr_ref(e, j)) != 0, "refs listed once");
	}
	check(tidu_expr_ref(e, n) == NULL, "ref past the end");
	(void)tidu_expr_uses_self(e);
	(void)tidu_expr_uses_function(e, "uuid");

	env.lookup = lookup;
	env.values = values;
	env.today = "2025-03-15";
	env.now = "2025-03-15T09:30:00+08:00";
	env.uuid = "uuid:0";
	env.position = 2;
	rc = eval_to(e, &env, &a);
	rc2 = eval_to(e, &env, &b);
	check(rc == rc2, "same code twice");
	check(a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0),
	      "same result twice");
	env.max_steps = 1 + size % 20;
	tidu_buf_clear(&b);
	(void)eval_to(e, &env, &b);
	tidu_expr_free(e);
	tidu_buf_free(&a);
	tidu_buf_free(&b);
	free(text);
	return 0;
}
