#ifndef TIDU_REPO_H
#define TIDU_REPO_H
/*
 * Sync and remotes, as one header for the callers that include it: the
 * declarations are in tidu/sync.h and tidu/remote.h.
 */
#include "tidu/remote.h"
#include "tidu/sync.h"

#endif
