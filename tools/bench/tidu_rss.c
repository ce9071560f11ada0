/*
 * tidu_rss: runs a command and reports its memory (benchmarks only).
 *
 *   tidu_rss [-o FILE] COMMAND [ARG ...]
 *
 * Writes one line "PEAK_KB AFTER_KDF_KB WALL_S" to FILE (default: standard
 * error) once COMMAND has exited; COMMAND keeps standard input and output.
 * The exit status is COMMAND's.
 *
 * - PEAK_KB is the peak resident set size from wait4()'s rusage: the same
 *   number as `/usr/bin/time -f %M`.
 * - AFTER_KDF_KB is the peak resident set size sampled (every 2 ms, from
 *   /proc/PID/statm) after the resident size first fell by 32 MiB or more
 *   below its running peak and then stopped falling. Every tidu command derives its key with Argon2id
 *   (64 MiB, mapped and unmapped by libsodium) before its real work, so
 *   PEAK_KB of a tidu command is that 64 MiB floor whatever the command does;
 *   AFTER_KDF_KB is the memory of the work itself. A command with no such
 *   drop reports PEAK_KB again. Sampling can miss a peak shorter than the
 *   interval, so it is a lower bound.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DROP_KB (32L * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident size of `pid` in KiB, or -1 once it is gone. */
static long rss_kb(pid_t pid, long page_kb)
{
	char path[64], buf[128];
	long size, resident;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fgets(buf, sizeof(buf), f) ? sscanf(buf, "%ld %ld", &size, &resident) : 0;
	fclose(f);
	return n == 2 ? resident * page_kb : -1;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	long page_kb = sysconf(_SC_PAGESIZE) / 1024, peak = 0, after = -1, last = 0, r;
	struct timespec tick = {0, 2000000};
	struct rusage ru;
	double t0, t1;
	FILE *o = stderr;
	pid_t pid;
	int argi = 1, status = 0, dropped = 0;

	if (argc > 2 && !strcmp(argv[1], "-o")) {
		out = argv[2];
		argi = 3;
	}
	if (argi >= argc) {
		fprintf(stderr, "usage: tidu_rss [-o FILE] COMMAND [ARG ...]\n");
		return 2;
	}
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("tidu_rss: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "tidu_rss: %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}
	for (;;) {
		pid_t w = wait4(pid, &status, WNOHANG, &ru);

		if (w == pid)
			break;
		if (w < 0) {
			perror("tidu_rss: wait4");
			return 1;
		}
		/* A zombie (exited, not yet reaped) reads as 0: skip it. */
		if ((r = rss_kb(pid, page_kb)) > 0) {
			if (r > peak)
				peak = r;
			/*
			 * 1: the big mapping is going away (munmap lowers the
			 * count page by page); 2: it has gone (the size stopped
			 * falling): from then on, track the peak.
			 */
			if (dropped == 0 && r <= peak - DROP_KB)
				dropped = 1;
			else if (dropped == 1 && r >= last)
				dropped = 2;
			if (dropped == 1 || (dropped == 2 && r > after))
				after = r;
			last = r;
		}
		nanosleep(&tick, NULL);
	}
	t1 = now_s();
	if (!dropped)
		after = ru.ru_maxrss;
	if (out && !(o = fopen(out, "w"))) {
		perror(out);
		return 1;
	}
	fprintf(o, "%ld %ld %.3f\n", ru.ru_maxrss, after, t1 - t0);
	if (o != stderr)
		fclose(o);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
