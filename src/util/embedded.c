#include <string.h>

#include "tidu/embedded.h"

const tidu_embedded_file *tidu_embedded_find(const char *name)
{
	size_t lo = 0, hi = tidu_embedded_count;

	/* tools/embed.cmake writes the table sorted by name (byte order). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, tidu_embedded[mid].name);

		if (c == 0)
			return &tidu_embedded[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
