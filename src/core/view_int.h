#ifndef TIDU_CORE_VIEW_INT_H
#define TIDU_CORE_VIEW_INT_H
/*
 * Counting rows, shared by the modules that own the tables (firm.c,
 * visit.c, changes.c) so that each keeps its SQL and none repeats the
 * stepping: src/core/view.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/store.h"
#include "tidu/view.h"

/*
 * The integer of the one row of `sql` (a cached statement; ?1 bound to
 * `param` if not NULL). `what` names the reading in an error ("counting
 * records").
 */
int tidu_view_scalar(tidu_store *s, const char *sql, const char *param,
		     const char *what, int64_t *out);

/*
 * The rows (district, count) of `sql`, in its order, into a new array
 * *out (the caller's, free()) of *n.
 */
int tidu_view_district_counts(tidu_store *s, const char *sql,
			      tidu_district_count **out, size_t *n);

#endif
