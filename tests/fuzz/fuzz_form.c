/*
 * Fuzz target for the XLSForm reader (form.h) on top of the .xlsx reader:
 * the input is a workbook. Checks: a failure is TIDU_EINVAL with a message
 * naming the file and no form; a form read has an id and a version, every
 * question but the ends has a valid name, every parent is a begin group or
 * repeat before it whose end is after it, every select has its list, and
 * finding a question by its name gives it back. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "tidu/error.h"
#include "tidu/form.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_form: %s (%s)\n", what, tidu_error_message());
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tidu_form *f = NULL;
	size_t i;
	int rc = tidu_form_read_mem("f.xlsx", data, size, &f);

	if (rc < 0) {
		check(rc == TIDU_EINVAL, "failure is EINVAL");
		check(strstr(tidu_error_message(), "f.xlsx") != NULL, "the message names the file");
		check(f == NULL, "no form on failure");
		tidu_error_clear();
		return 0;
	}
	check(f->id && *f->id && f->version && *f->version, "an id and a version");
	check(f->nlangs >= 1 && f->default_lang < f->nlangs, "a default language");
	for (i = 0; i < f->nq; i++) {
		const tidu_form_question *q = &f->q[i];

		if (q->type != TIDU_Q_END_GROUP && q->type != TIDU_Q_END_REPEAT) {
			check(q->name && *q->name, "a name");
			check(tidu_form_find(f, q->name) == i, "found by its name");
		}
		if (q->parent != TIDU_FORM_TOP) {
			const tidu_form_question *p = &f->q[q->parent];

			check(q->parent < i, "the parent comes first");
			check(p->type == TIDU_Q_BEGIN_GROUP || p->type == TIDU_Q_BEGIN_REPEAT,
			      "the parent is a group or repeat");
			check(p->end != TIDU_FORM_TOP && p->end >= i, "the parent ends after it");
		}
		if (q->type == TIDU_Q_SELECT_ONE || q->type == TIDU_Q_SELECT_MULTIPLE)
			check(q->list != NULL, "a select has its list");
	}
	tidu_form_free(f);
	return 0;
}
