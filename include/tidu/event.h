#ifndef TIDU_EVENT_H
#define TIDU_EVENT_H
/*
 * Events of the cultivation (docs/services.md): bank–firm matchmaking
 * (政银企对接会), the three levels of training (普惠/中端/高端), 创客中国
 * competitions, and who attended. Entities `event` (sealed for its
 * district; on the city with no district, the city's own) and `attendance`
 * (one firm at one event, sealed for the firm's district), written through
 * the record path.
 */
#include <stddef.h>
#include <stdint.h>
#include "tidu/store.h"
#include "tidu/uuid.h"

typedef struct {
	const char *kind, *date, *title; /* required: kind of choices event_kind */
	const char *place, *note;        /* may be NULL */
	const char *district;            /* NULL: this store's district (the city: none) */
} tidu_event_in;

/*
 * Adds an event and, for each of the `n` firms, its attendance, in one
 * transaction. TIDU_EINVAL for a missing or bad kind, date or title, or a
 * district not this store's; TIDU_ENOTFOUND for a firm not stored.
 */
int tidu_event_add(tidu_store *s, const tidu_event_in *in, char *const *usccs, size_t n,
		   char id_out[TIDU_UUID_LEN + 1]);

/*
 * Records that the `n` firms attended event `id` (`people` of each: 0 for
 * not said). A firm already recorded there is left as it is (*added counts
 * the new ones). All or nothing.
 */
int tidu_event_attend(tidu_store *s, const char *id, char *const *usccs, size_t n,
		      int64_t people, size_t *added);

typedef struct {
	char id[TIDU_UUID_LEN + 1];
	char *district, *kind, *date, *title, *place, *note;
	int64_t firms;   /* firms recorded as attending */
	int64_t people;  /* the people they sent, where said */
} tidu_event;

typedef struct {
	const char *since, *kind; /* NULL: all */
	const char *uscc;         /* only events this firm attended */
} tidu_event_filter;

/* The events, newest first, with their attendance counts. */
int tidu_event_list(tidu_store *s, const tidu_event_filter *f, tidu_event **out, size_t *n);
void tidu_events_free(tidu_event *v, size_t n);

/* The firms that attended event `id`, by USCC (usccs[i] and names[i] the caller's). */
int tidu_event_firms(tidu_store *s, const char *id, char ***usccs, char ***names, size_t *n);
#endif
