#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "tidu/agent.h"

/* The path of the store file of this run, or an exit code. */
static int db_path(const cli_ctx *ctx, tidu_buf *out)
{
	tidu_buf home = TIDU_BUF_INIT;
	int code;

	if ((code = cli_home(ctx, &home)) != EXIT_OK)
		goto done;
	if (!tidu_store_exists(home.ptr)) {
		code = cli_error(EXIT_USAGE, _("no store in '%s': run 'tidu init' first"), home.ptr);
		goto done;
	}
	tidu_buf_printf(out, "%s/%s", home.ptr, TIDU_DB_NAME);
	{
		/* Absolute: the agent leaves the working directory. */
		char *real = realpath(out->ptr, NULL);

		if (!real) {
			code = cli_error(EXIT_FAIL, _("cannot use '%s': %s"), out->ptr,
					 strerror(errno));
			goto done;
		}
		tidu_buf_clear(out);
		tidu_buf_puts(out, real);
		free(real);
	}
done:
	tidu_buf_free(&home);
	return code;
}

/* "90s", "30m", "12h" or minutes ("45"): milliseconds, or -1. */
static int64_t parse_duration(const char *text)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || v <= 0 || v > 100000)
		return -1;
	if (!strcmp(end, "s"))
		return v * 1000;
	if (!*end || !strcmp(end, "m"))
		return v * 60 * 1000;
	if (!strcmp(end, "h"))
		return v * 60 * 60 * 1000;
	return -1;
}

/*
 * Secrets given through the environment are wiped from the daemon's memory
 * (and so from /proc/PID/environ): it keeps the key, not the passphrase.
 */
static void scrub_environment(void)
{
	static const char *const names[] = {"TIDU_PASSPHRASE", "TIDU_NEW_PASSPHRASE",
					    "TIDU_RECOVERY_KEY", "TIDU_GIT_PASSWORD",
					    "TIDU_SSH_PASSPHRASE"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *v = getenv(names[i]);

		if (v)
			sodium_memzero(v, strlen(v));
		unsetenv(names[i]);
	}
}

/* The daemon: detached, no core dumps, no ptrace; serves, then exits. */
static void run_agent(int fd, const char *db, tidu_secret *secret, int64_t idle,
		      int64_t max)
{
	int null, i;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* first: no core file, no ptrace */
	scrub_environment();
	null = open("/dev/null", O_RDWR);
	setsid();
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	for (i = STDERR_FILENO + 1; i < 1024; i++)
		if (i != fd)
			close(i);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/") < 0)
		(void)0; /* paths are absolute; nothing depends on the cwd */
	tidu_agent_serve(fd, db, secret, idle, max);
}

typedef struct {
	const char *idle, *max;
} agent_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static agent_opts agent_defaults;

static const cli_opt start_optv[] = {
	CLI_STRING("idle", "TIME", N_("stop after TIME unused: 90s, 30m, 2h (default 1h)"),
		   agent_defaults, idle),
	CLI_STRING("max", "TIME", N_("stop after TIME in any case (default 12h, at most 24h)"),
		   agent_defaults, max),
	CLI_OPT_END,
};

/* tidu agent start [--idle D] [--max D]; not NEED_STORE: it unlocks the key only. */
static int agent_start(cli_run *r)
{
	const agent_opts *o = r->opts;
	const char *idle_text = o->idle, *max_text = o->max;
	tidu_buf db = TIDU_BUF_INIT, pass = TIDU_BUF_INIT;
	tidu_secret secret;
	int64_t idle = TIDU_AGENT_IDLE_MS_DEFAULT, max = TIDU_AGENT_MAX_MS_DEFAULT;
	pid_t pid;
	int fd = -1, code, error;

	memset(&secret, 0, sizeof(secret));
	if ((code = db_path(r->ctx, &db)) != EXIT_OK)
		goto done;
	if ((idle_text && (idle = parse_duration(idle_text)) < 0) ||
	    (max_text && ((max = parse_duration(max_text)) < 0 ||
			  max > (int64_t)24 * 60 * 60 * 1000))) {
		code = cli_error(EXIT_USAGE, _("invalid time '%s': use 90s, 30m or 2h (at most 24h for --max)"),
				 idle_text && idle < 0 ? idle_text : max_text);
		goto done;
	}
	{
		tidu_agent_info info;

		/* Before asking for the passphrase: one agent per store. */
		if (tidu_agent_query(db.ptr, &info) == 0) {
			code = cli_error(EXIT_USAGE, _("an agent is running for this store already (process %lld): 'tidu agent stop' first"),
					 (long long)info.pid);
			goto done;
		}
		tidu_error_clear();
	}
	if ((code = cli_passphrase(r->ctx->passfile, "TIDU_PASSPHRASE", _("Passphrase: "), 0,
				   &pass)) != EXIT_OK)
		goto done;
	if ((error = tidu_keyfile_unlock(db.ptr, pass.ptr, pass.len, &secret)) < 0 ||
	    (error = tidu_agent_listen(db.ptr, &fd)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		code = cli_error(EXIT_FAIL, _("cannot start the agent: %s"), strerror(errno));
		goto done;
	}
	if (pid == 0) {
		tidu_buf_wipe(&pass);
		run_agent(fd, db.ptr, &secret, idle, max);
		tidu_secret_wipe(&secret);
		tidu_buf_free(&db);
		free(r->args);
		free(r->opts);
		exit(0);
	}
	printf(_("Agent started (process %ld): commands on this store need no passphrase until it is unused for %lld min, for %lld h at most, or 'tidu agent stop'.\n"),
	       (long)pid, (long long)(idle / 60000), (long long)(max / 3600000));
done:
	if (fd >= 0)
		close(fd);
	tidu_secret_wipe(&secret);
	tidu_buf_wipe(&pass);
	tidu_buf_free(&db);
	return code;
}

typedef struct {
	int all;
} stop_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static stop_opts stop_defaults;

static const cli_opt stop_optv[] = {
	CLI_FLAG("all", N_("stop every agent of this user, also of stores moved or deleted"),
		 stop_defaults, all),
	CLI_OPT_END,
};

/* tidu agent stop [--all] */
static int agent_stop(cli_run *r)
{
	const stop_opts *o = r->opts;
	tidu_buf db = TIDU_BUF_INIT;
	size_t stopped;
	int code = EXIT_OK, error;

	if (o->all) {
		if ((error = tidu_agent_stop_all(&stopped)) < 0)
			return cli_fail(error);
		printf(_("Stopped %zu agents; their keys are wiped.\n"), stopped);
		return EXIT_OK;
	}
	if ((code = db_path(r->ctx, &db)) != EXIT_OK) {
		/* The store is gone, its agent maybe not: say how to reach it. */
		cli_warn("%s", _("to stop the agent of a store that was moved or deleted: "
				 "tidu agent stop --all"));
		goto done;
	}
	error = tidu_agent_stop(db.ptr);
	if (error == TIDU_ENOTFOUND)
		printf("%s\n", _("No agent is running for this store."));
	else if (error < 0)
		code = cli_fail(error);
	else
		printf("%s\n", _("The agent has stopped; its key is wiped."));
done:
	tidu_buf_free(&db);
	return code;
}

/* tidu agent status [--json] */
static int agent_status(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_buf db = TIDU_BUF_INIT;
	tidu_agent_info info;
	int code, error;

	if ((code = db_path(r->ctx, &db)) != EXIT_OK)
		goto done;
	error = tidu_agent_query(db.ptr, &info);
	if (error < 0 && error != TIDU_ENOTFOUND) {
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "running");
		tidu_json_write_bool(&w, error == 0);
		tidu_json_write_key(&w, "pid");
		tidu_json_write_int64(&w, info.pid);
		tidu_json_write_key(&w, "idle_left_s");
		tidu_json_write_int64(&w, info.idle_left_ms / 1000);
		tidu_json_write_key(&w, "life_left_s");
		tidu_json_write_int64(&w, info.life_left_ms / 1000);
		tidu_json_end_object(&w);
		if ((code = cli_emit_json(&w, &out)) != EXIT_OK)
			goto done;
	} else if (error == 0) {
		printf(_("An agent runs for this store (process %lld): it stops if unused for %lld min more, in %lld min at most.\n"),
		       (long long)info.pid, (long long)(info.idle_left_ms / 60000),
		       (long long)(info.life_left_ms / 60000));
	} else {
		printf("%s\n", _("No agent is running for this store."));
	}
	code = error == 0 ? EXIT_OK : EXIT_FAIL;
done:
	tidu_buf_free(&db);
	return code;
}

static const cli_cmd agent_subs[] = {
	{.name = "start",
	 .summary = N_("unlock the store once and keep its key in memory for the next commands"),
	 .spec = {"tidu agent start [--idle TIME] [--max TIME]", NULL, start_optv, 0, 0},
	 CLI_OPTS(agent_defaults), .run = agent_start},
	{.name = "stop", .summary = N_("stop the store's key agent"),
	 .spec = {"tidu agent stop [--all]", NULL, stop_optv, 0, 0},
	 CLI_OPTS(stop_defaults), .run = agent_stop},
	{.name = "status",
	 .summary = N_("say whether the store's key agent runs (exit 1 if not)"),
	 .spec = {"tidu agent status [--json]", NULL, cli_json_object_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .run = agent_status},
	{.name = NULL},
};

const cli_cmd cmd_agent = {
	.name = "agent",
	.summary = N_("keep the unlocked key in memory for a while (like ssh-agent)"),
	.subs = agent_subs,
};
