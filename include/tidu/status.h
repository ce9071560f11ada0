#ifndef TIDU_STATUS_H
#define TIDU_STATUS_H
/*
 * What `tidu status` shows, read in one go: the counts of each module
 * (firm.h, visit.h, record.h), the last sync (repo.h) and, on the city, the
 * districts and devices.
 */
#include <stddef.h>
#include <stdint.h>

#include "tidu/repo.h"
#include "tidu/store.h"

/* Live firms and visits of one district (of their firm, for visits). */
typedef struct {
	char district[16]; /* "" for records without a district */
	int64_t firms, visits;
} tidu_status_district;

typedef struct {
	int64_t firms, firm_years, visits;
	int64_t pending;            /* changes not sealed yet */
	int64_t aside;              /* changes the seal set aside (tidu changes pending) */
	int synced;                 /* 1: a sync (or relay) completed once */
	int64_t last_sync_ms;       /* when, if synced */
	char last_remote[TIDU_REMOTE_NAME_MAX + 1]; /* with which remote, if synced */
	char *last_url;             /* its URL, password shown as ***; NULL if removed since */
	int city;                   /* the city's store: the two lists below are read */
	tidu_status_district *districts; /* by district code */
	size_t ndistricts;
	tidu_sync_device_seen *devices;  /* as tidu_sync_devices_seen() */
	size_t ndevices;
} tidu_status;

/* Reads the status of `s` into `out` (tidu_status_free() it, also after an error). */
int tidu_status_read(tidu_store *s, tidu_status *out);

void tidu_status_free(tidu_status *st);

#endif
