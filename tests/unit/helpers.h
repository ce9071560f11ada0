#ifndef TIDU_TEST_HELPERS_H
#define TIDU_TEST_HELPERS_H
/*
 * Helpers shared by the unit tests (tests/unit/helpers.c, linked into every
 * test_*.c). They fail the running cmocka test on any error. Include after
 * <cmocka.h>.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/buf.h"
#include "tidu/store.h"

/*
 * A new store in a new directory "/tmp/tidu-<tag>.XXXXXX", written to `dir`
 * (64 bytes), of `district` and `role`, officer "测试", passphrase `pass`.
 */
tidu_store *th_store(char dir[64], const char *tag, const char *district,
		     const char *role, const char *pass);

/* Admits each of `devs` on the city, exports the keyring, imports it on each. */
void th_enroll(tidu_store *city, tidu_store *const *devs, size_t n);

/* The first column of the first row of `sql` as an integer, -1 if no row. */
int64_t th_scalar(tidu_store *s, const char *sql);

/* An export sink (tidu_export_json) appending to the tidu_buf `ctx`. */
int th_collect(void *ctx, tidu_buf *buf);

/* Removes the directory tree `dir` (no shell). */
void th_rmtree(const char *dir);

#endif
