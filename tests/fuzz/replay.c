/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput() on files, for builds
 * without libFuzzer (gcc, under ctest):
 *
 *	replay_changeset DIR|FILE...
 *
 * Each directory contributes its files (not recursively, in name order,
 * hidden files skipped). A broken invariant aborts inside the target; an
 * unreadable argument, or no input at all, fails with status 1, so that a
 * missing corpus cannot pass. Prints "N inputs replayed".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "replay: cannot open '%s'\n", path);
		return -1;
	}
	do {
		if (len == cap) {
			unsigned char *p;

			cap = cap ? cap * 2 : 65536;
			p = realloc(data, cap);
			if (!p) {
				fprintf(stderr, "replay: out of memory for '%s'\n", path);
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int error = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open directory '%s'\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **p;

			cap = cap ? cap * 2 : 64;
			p = realloc(names, cap * sizeof(*names));
			if (!p)
				abort();
			names = p;
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n])
			abort();
		snprintf(names[n], strlen(dir) + strlen(e->d_name) + 2, "%s/%s", dir,
			 e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(names[i]) < 0)
				error = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return error;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i, error = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file or directory: '%s'\n", argv[i]);
			error = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) < 0)
				error = -1;
		} else if (replay_file(argv[i]) < 0) {
			error = -1;
		} else {
			count++;
		}
	}
	printf("%zu inputs replayed\n", count);
	if (count == 0)
		fprintf(stderr, "replay: no input\n");
	return error < 0 || count == 0 ? 1 : 0;
}
