/* Helpers shared by the unit tests: see helpers.h. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "tidu/home.h"
#include "tidu/keyfile.h"
#include "tidu/trust.h"

tidu_store *th_store(char dir[64], const char *tag, const char *district,
		     const char *role, const char *pass)
{
	char recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_store_identity id = {district, "测试", role};
	tidu_store *s = NULL;

	snprintf(dir, 64, "/tmp/tidu-%s.XXXXXX", tag);
	assert_non_null(mkdtemp(dir));
	if (tidu_home_create(&s, dir, &id, pass, strlen(pass), NULL, NULL, recovery,
			     sizeof(recovery)) < 0)
		fail_msg("creating a store in %s: %s", dir, tidu_error_message());
	return s;
}

void th_enroll(tidu_store *city, tidu_store *const *devs, size_t n)
{
	tidu_buf req = TIDU_BUF_INIT, ring = TIDU_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		tidu_buf_clear(&req);
		assert_int_equal(tidu_trust_enroll_request(devs[i], &req), 0);
		if (tidu_trust_admit(city, req.ptr, req.len, NULL, 1) < 0)
			fail_msg("admit: %s", tidu_error_message());
	}
	assert_int_equal(tidu_trust_keyring_export(city, &ring), 0);
	for (i = 0; i < n; i++)
		if (tidu_trust_keyring_import(devs[i], ring.ptr, ring.len, NULL) < 0)
			fail_msg("keyring import: %s", tidu_error_message());
	tidu_buf_free(&req);
	tidu_buf_free(&ring);
}

int64_t th_scalar(tidu_store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(tidu_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int th_collect(void *ctx, tidu_buf *buf)
{
	tidu_buf_put(ctx, buf->ptr, buf->len);
	tidu_buf_clear(buf);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void th_rmtree(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}
