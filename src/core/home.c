/*
 * The layer above the store that makes it this device's: the store knows
 * nothing of trust, so that the dependency runs one way (home -> trust ->
 * store).
 */
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tidu/home.h"
#include "tidu/repo.h"
#include "tidu/trust.h"

#include "core/store_int.h"

/* Gives `s` to *out with its keys ensured, or frees it. */
static int with_keys(tidu_store **out, tidu_store *s, int error)
{
	*out = NULL;
	if (error < 0)
		return error;
	if ((error = tidu_trust_ensure_keys(s)) < 0) {
		tidu_store_free(s);
		return error;
	}
	*out = s;
	return 0;
}

int tidu_home_create(tidu_store **out, const char *home,
		     const tidu_store_identity *id, const char *pass,
		     size_t passlen, const char *city_fp, const char *remote,
		     char *recovery, size_t recovery_size)
{
	tidu_store *s = NULL;
	struct stat st;
	int error, existed = stat(home, &st) == 0 || errno != ENOENT;

	*out = NULL;
	/* The name goes into every request and keyring: the one check, first. */
	if (id->officer && (error = tidu_trust_officer_check(id->officer)) < 0)
		return error;
	if ((error = tidu_store_create(&s, home, id, pass, passlen, recovery,
				       recovery_size)) < 0)
		goto fail;
	if ((error = tidu_trust_ensure_keys(s)) < 0 ||
	    (city_fp && (error = tidu_trust_pin_city(s, city_fp)) < 0) ||
	    (remote && (error = tidu_remote_add(s, "origin", remote)) < 0)) {
		/* Nothing half-made: a store without its keys, pin or remote goes. */
		tidu_store_discard(s);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	/*
	 * A home this call made goes too (a full disk must not leave an empty
	 * one that looks like a store's); rmdir keeps it if anything is in it.
	 */
	if (!existed)
		rmdir(home);
	return error;
}

int tidu_home_open(tidu_store **out, const char *home, const char *pass,
		   size_t passlen)
{
	tidu_store *s = NULL;
	int error = tidu_store_open(&s, home, pass, passlen);

	return with_keys(out, s, error);
}

int tidu_home_open_recovery(tidu_store **out, const char *home,
			    const char *recovery)
{
	tidu_store *s = NULL;
	int error = tidu_store_open_recovery(&s, home, recovery);

	return with_keys(out, s, error);
}

int tidu_home_open_secret(tidu_store **out, const char *home,
			  const tidu_secret *secret)
{
	tidu_store *s = NULL;
	int error = tidu_store_open_secret(&s, home, secret);

	return with_keys(out, s, error);
}

int tidu_home_check(const char *home, const char *pass, size_t passlen)
{
	return tidu_store_check_with(home, pass, passlen, tidu_home_open_secret);
}
