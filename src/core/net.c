/* The network limits of net.h: what the environment sets. */
#include <stdlib.h>

#include "tidu/net.h"

/* $name in seconds (1 to max) as milliseconds, else `def`. */
static int env_seconds_ms(const char *name, long max, int def)
{
	const char *e = getenv(name);
	char *end;
	long v;

	if (!e || !*e)
		return def;
	v = strtol(e, &end, 10);
	return *end || v < 1 || v > max ? def : (int)v * 1000;
}

int tidu_net_timeout_ms(void)
{
	return env_seconds_ms("TIDU_CONNECT_TIMEOUT", 3600, TIDU_CONNECT_TIMEOUT_MS);
}

int tidu_net_wait_ms(void)
{
	return env_seconds_ms("TIDU_NET_TIMEOUT", 86400, TIDU_NET_WAIT_MS);
}
