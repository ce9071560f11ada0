#ifndef TIDU_CORE_STORE_INT_H
#define TIDU_CORE_STORE_INT_H
/* What store.c shares with home.c, the layer above it. */
#include "tidu/keyfile.h"
#include "tidu/store.h"

/* How tidu_store_check() opens the store once its files are verified. */
typedef int (*tidu_store_opener)(tidu_store **out, const char *home,
				 const tidu_secret *secret);

/*
 * tidu_store_check(), opening the store with `opener`: so that a check through
 * home.h also checks this device's keys, with one key derivation.
 */
int tidu_store_check_with(const char *home, const char *pass, size_t passlen,
			  tidu_store_opener opener);

#endif
