/* The network limits of net.h: what the environment sets. */
#include <stdlib.h>

#include "tidu/net.h"

int tidu_net_timeout_ms(void)
{
	const char *e = getenv("TIDU_CONNECT_TIMEOUT");
	char *end;
	long v;

	if (!e || !*e)
		return TIDU_CONNECT_TIMEOUT_MS;
	v = strtol(e, &end, 10);
	if (*end || v < 1 || v > 3600)
		return TIDU_CONNECT_TIMEOUT_MS;
	return (int)v * 1000;
}

int tidu_net_wait_ms(void)
{
	const char *e = getenv("TIDU_NET_TIMEOUT");
	char *end;
	long v;

	if (!e || !*e)
		return TIDU_NET_WAIT_MS;
	v = strtol(e, &end, 10);
	if (*end || v < 1 || v > 86400)
		return TIDU_NET_WAIT_MS;
	return (int)v * 1000;
}
