#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "tidu/agent.h"
#include "tidu/alloc.h"
#include "tidu/clock.h"
#include "tidu/file.h"
#include "tidu/parse.h"
#include "tidu/trust.h"
#include "tidu/utf8.h"

int cli_exit_code(int error)
{
	switch (error) {
	case TIDU_EINVAL:
	case TIDU_ENOTFOUND:
	case TIDU_EEXISTS:
		return EXIT_USAGE;
	case TIDU_EPASS:
		return EXIT_PASS;
	case TIDU_ECORRUPT:
		return EXIT_CORRUPT;
	default:
		return EXIT_FAIL;
	}
}

/* Ring of buffers behind cli_safe(): reachable until exit, never leaked. */
#define SAFE_RING 8
static tidu_buf safe_ring[SAFE_RING];
static unsigned safe_next;

static const char *safe_into(const char *s, unsigned flags)
{
	tidu_buf *b = &safe_ring[safe_next++ % SAFE_RING];

	tidu_buf_clear(b);
	tidu_utf8_safe(b, s ? s : "", s ? strlen(s) : 0, flags);
	tidu_buf_putc(b, '\0');
	return b->ptr;
}

const char *cli_safe(const char *s)
{
	return safe_into(s, 0);
}

const char *cli_safe_ml(const char *s)
{
	return safe_into(s, TIDU_SAFE_MULTILINE);
}

/*
 * The multi-line fields (docs/design.md, "Outputs"): the dictionary's type
 * `note` (a visit's note and follow-up), the fields whose input allows
 * newline and tab.
 */
static int field_multiline(const tidu_field *f)
{
	return f && f->type == TIDU_T_NOTE;
}

const char *cli_safe_field(const tidu_field *f, const char *s)
{
	return field_multiline(f) ? cli_safe_ml(s) : cli_safe(s);
}

/* Writes one message line to stderr: "tidu: " `prefix` message, made safe. */
/* ---- the progress line of long operations (tidu_store_set_progress) ---- */

typedef struct {
	int shown;        /* a line is on the terminal */
	int64_t start;    /* mono ms of the operation's first report (0: none) */
	int64_t last;     /* of the last drawing */
	int64_t delay;    /* ms before the first drawing: short runs draw nothing */
} progress_ui;

static progress_ui progress_state;

static void progress_clear(void)
{
	if (progress_state.shown)
		fputs("\r\033[K", stderr);
	progress_state.shown = 0;
}

static void progress_draw(void *ctx, const char *what, size_t done, size_t total)
{
	progress_ui *ui = ctx;
	int64_t now = tidu_clock_mono_ms();

	if (!what) {
		progress_clear();
		ui->start = 0;
		return;
	}
	if (!ui->start)
		ui->start = now ? now : 1;
	if (now - ui->start < ui->delay || (ui->shown && now - ui->last < 100))
		return;
	ui->last = now;
	fprintf(stderr, "\r\033[K%s: ", what);
	if (total)
		fprintf(stderr, "%3u%% (%zu/%zu)", (unsigned)(done * 100 / total), done, total);
	else
		fprintf(stderr, "%zu", done);
	fflush(stderr);
	ui->shown = 1;
}

/* On a terminal's stderr, the store's long operations draw a progress line. */
static void progress_attach(tidu_store *s)
{
	const char *env = getenv("TIDU_PROGRESS_DELAY_MS");
	int64_t delay;

	if (!isatty(STDERR_FILENO))
		return;
	progress_state.delay = 500;
	if (env && tidu_parse_int64(env, &delay) == 0 && delay >= 0 && delay <= 60000)
		progress_state.delay = delay;
	tidu_store_set_progress(s, progress_draw, &progress_state);
}

static void message_line(const char *prefix, const char *fmt, va_list ap)
{
	tidu_buf b = TIDU_BUF_INIT, safe = TIDU_BUF_INIT;

	progress_clear();

	tidu_buf_vprintf(&b, fmt, ap);
	tidu_utf8_safe(&safe, b.ptr ? b.ptr : "", b.len, 0);
	fprintf(stderr, "tidu: %s%.*s\n", prefix, (int)safe.len,
		safe.ptr ? safe.ptr : "");
	tidu_buf_free(&b);
	tidu_buf_free(&safe);
}

static void message(const char *prefix, const char *fmt, ...) TIDU_PRINTF(2, 3);
static void message(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message_line(prefix, fmt, ap);
	va_end(ap);
}

int cli_fail(int error)
{
	const char *msg = tidu_error_message();

	message("", "%s", *msg ? msg : _("unknown error"));
	return cli_exit_code(error);
}

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message_line("", fmt, ap);
	va_end(ap);
	return code;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message_line(_("warning: "), fmt, ap);
	va_end(ap);
}

void cli_print_padded(FILE *f, const char *s, size_t cols)
{
	const char *safe = cli_safe(s);
	size_t w = tidu_utf8_columns(safe);

	/* At least one space, so that an over-long cell never runs on. */
	fputs(safe, f);
	do
		fputc(' ', f);
	while (++w < cols);
}

void cli_help(const cli_spec *spec)
{
	static const cli_opt globals[] = {
		{"home", OPT_STRING, "DIR", N_("store directory (default $TIDU_HOME, else ~/.local/share/tidu)"), NULL},
		{"passphrase-file", OPT_STRING, "FILE", N_("read the passphrase from FILE"), NULL},
		{"help", OPT_FLAG, NULL, N_("show this help"), NULL},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_opt *lists[2] = {spec->opts, globals};
	size_t l;

	printf("%s %s\n%s\n\n%s\n", _("usage:"), spec->usage, _(spec->summary),
	       _("Options:"));
	for (l = 0; l < 2; l++) {
		const cli_opt *o;

		for (o = lists[l]; o && o->name; o++) {
			tidu_buf b = TIDU_BUF_INIT;

			tidu_buf_printf(&b, "--%s%s%s", o->name, o->arg ? " " : "",
					o->arg ? o->arg : "");
			printf("  ");
			cli_print_padded(stdout, b.ptr, 28);
			printf("%s\n", _(o->help));
			tidu_buf_free(&b);
		}
	}
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
	const cli_opt *o;

	for (o = opts; o && o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

/* A command's options struct: its copy `base` of the layout `defaults`. */
typedef struct {
	void *base;
	const void *defaults;
} opt_dest;

/* Where option `o` is stored: its target, or the same member of the copy. */
static void *opt_slot(const cli_opt *o, const opt_dest *d)
{
	if (!d->base)
		return o->target;
	return (char *)d->base + ((const char *)o->target - (const char *)d->defaults);
}

/* cli_parse() into `dest` (its base NULL: into the options' targets). */
static int parse_into(cli_ctx *ctx, const cli_spec *spec, const opt_dest *dest,
		      int argc, char **argv, char ***args, int *nargs)
{
	static const cli_opt none[] = {{NULL, 0, NULL, NULL, NULL}};
	int i, only_args = 0;

	*args = tidu_calloc((size_t)argc + 1, sizeof(**args));
	*nargs = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		const cli_opt *o;
		size_t len;

		if (!tidu_utf8_valid(a, strlen(a)))
			return cli_error(EXIT_USAGE,
				_("argument %d is not valid UTF-8"), i);
		if (only_args || a[0] != '-' || a[1] != '-' || !a[2]) {
			if (!only_args && !strcmp(a, "--")) {
				only_args = 1;
				continue;
			}
			if (!only_args && a[0] == '-' && a[1] && a[1] != '-' &&
			    strcmp(a, "-h"))
				return cli_error(EXIT_USAGE,
					_("unknown option '%s': run the command with --help"), a);
			if (!strcmp(a, "-h") && !only_args) {
				cli_help(spec);
				return -1;
			}
			(*args)[(*nargs)++] = argv[i];
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		if (len == 4 && !strncmp(a, "help", 4)) {
			cli_help(spec);
			return -1;
		}
		if ((len == 4 && !strncmp(a, "home", 4)) ||
		    (len == 15 && !strncmp(a, "passphrase-file", 15))) {
			const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);

			if (!v)
				return cli_error(EXIT_USAGE,
					_("option '--%.*s' needs a value"), (int)len, a);
			if (len == 4)
				ctx->home = v;
			else
				ctx->passfile = v;
			continue;
		}
		o = find_opt(spec->opts ? spec->opts : none, a, len);
		if (!o)
			return cli_error(EXIT_USAGE,
				_("unknown option '--%.*s': run the command with --help"),
				(int)len, a);
		if (o->kind == OPT_FLAG) {
			if (eq)
				return cli_error(EXIT_USAGE,
					_("option '--%s' takes no value"), o->name);
			*(int *)opt_slot(o, dest) = 1;
		} else {
			const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);

			if (!v)
				return cli_error(EXIT_USAGE,
					_("option '--%s' needs a value"), o->name);
			if (!tidu_utf8_valid(v, strlen(v)))
				return cli_error(EXIT_USAGE,
					_("value of '--%s' is not valid UTF-8"), o->name);
			*(const char **)opt_slot(o, dest) = v;
		}
	}
	if (*nargs < spec->min_args ||
	    (spec->max_args >= 0 && *nargs > spec->max_args))
		return cli_error(EXIT_USAGE, _("usage: %s"), spec->usage);
	return EXIT_OK;
}

int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv,
	      char ***args, int *nargs)
{
	const opt_dest targets = {NULL, NULL};

	return parse_into(ctx, spec, &targets, argc, argv, args, nargs);
}

int cli_home(const cli_ctx *ctx, tidu_buf *home)
{
	return tidu_store_home(ctx->home, home) < 0 ? cli_fail(TIDU_EINVAL) : EXIT_OK;
}

static int read_file(const char *path, tidu_buf *out)
{
	if (tidu_file_read(path, 65536, out) < 0)
		return cli_error(EXIT_PASS, _("cannot read passphrase file: %s"),
				 tidu_error_message());
	return EXIT_OK;
}

int cli_read_line(const char *prompt, int echo, tidu_buf *out)
{
	struct termios old, quiet;
	int c, term = 0;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (!echo) {
		/* A secret: room first, so that no reallocation leaves a copy. */
		tidu_buf_grow(out, 1024);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= (tcflag_t)~ECHO;
			quiet.c_lflag |= ECHONL;
			term = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	while ((c = getchar()) != EOF && c != '\n')
		tidu_buf_putc(out, (char)c);
	if (term)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return c == EOF ? -1 : 0;
}

/* A passphrase from the terminal; an exit code. */
static int prompt_line(const char *prompt, tidu_buf *out)
{
	if (cli_read_line(prompt, 0, out) < 0)
		return cli_error(EXIT_PASS, "%s", _("no passphrase given"));
	return EXIT_OK;
}

int cli_passphrase(const char *file, const char *envname, const char *prompt,
		   int confirm, tidu_buf *out)
{
	const char *env = getenv(envname);
	int code;

	tidu_buf_clear(out);
	if (file) {
		if ((code = read_file(file, out)) != EXIT_OK)
			return code;
		/* One trailing newline (LF or CRLF) is not part of it. */
		if (out->len && out->ptr[out->len - 1] == '\n')
			tidu_buf_truncate(out, out->len - 1);
		if (out->len && out->ptr[out->len - 1] == '\r')
			tidu_buf_truncate(out, out->len - 1);
	} else if (env) {
		tidu_buf_puts(out, env);
	} else if (isatty(STDIN_FILENO)) {
		tidu_buf again = TIDU_BUF_INIT;

		if ((code = prompt_line(prompt, out)) != EXIT_OK)
			return code;
		if (confirm) {
			if ((code = prompt_line(_("Repeat the passphrase: "), &again)) != EXIT_OK) {
				tidu_buf_free(&again);
				return code;
			}
			if (again.len != out->len ||
			    (out->len && sodium_memcmp(again.ptr, out->ptr, out->len))) {
				tidu_buf_wipe(&again);
				return cli_error(EXIT_PASS, "%s", _("the passphrases do not match"));
			}
		}
		tidu_buf_wipe(&again);
	} else {
		return cli_error(EXIT_PASS,
			_("no passphrase: use --passphrase-file FILE, set %s, or run on a terminal"),
			envname);
	}
	if (out->len == 0)
		return cli_error(EXIT_PASS, "%s", _("the passphrase is empty"));
	return EXIT_OK;
}

/*
 * Opens the store with the key of its agent. TIDU_ENOTFOUND when there is
 * no usable agent (none runs, or it holds another store's key: then the
 * passphrase is asked as usual); other codes when the store itself fails.
 */
static int open_by_agent(const char *home, tidu_store **out)
{
	tidu_buf db = TIDU_BUF_INIT;
	tidu_secret secret;
	int error;

	tidu_buf_printf(&db, "%s/%s", home, TIDU_DB_NAME);
	error = tidu_agent_fetch(db.ptr, &secret);
	tidu_buf_free(&db);
	if (error < 0) {
		if (error != TIDU_ENOTFOUND)
			cli_warn(_("the key agent cannot be used: %s"), tidu_error_message());
		return tidu_error_set(TIDU_ENOTFOUND, "%s", _("no agent"));
	}
	error = tidu_home_open_secret(out, home, &secret);
	tidu_secret_wipe(&secret);
	if (error == TIDU_EPASS) {
		cli_warn("%s", _("the key agent holds a key that does not open this store: ignored"));
		return tidu_error_set(TIDU_ENOTFOUND, "%s", _("no agent"));
	}
	return error;
}

int cli_open_store(const cli_ctx *ctx, tidu_store **out)
{
	tidu_buf home = TIDU_BUF_INIT, pass = TIDU_BUF_INIT;
	int code, error;

	*out = NULL;
	if ((code = cli_home(ctx, &home)) != EXIT_OK)
		goto done;
	if (!tidu_store_exists(home.ptr)) {
		code = cli_error(EXIT_USAGE, _("no store in '%s': run 'tidu init' first"),
				 home.ptr);
		goto done;
	}
	if (!ctx->passfile && !getenv("TIDU_PASSPHRASE") && !getenv("TIDU_NO_AGENT")) {
		error = open_by_agent(home.ptr, out);
		if (error == 0)
			goto done;
		if (error != TIDU_ENOTFOUND) {
			code = cli_fail(error);
			goto done;
		}
		tidu_error_clear();
	}
	if ((code = cli_passphrase(ctx->passfile, "TIDU_PASSPHRASE",
				   _("Passphrase: "), 0, &pass)) != EXIT_OK)
		goto done;
	if ((error = tidu_home_open(out, home.ptr, pass.ptr, pass.len)) < 0)
		code = cli_fail(error);
done:
	tidu_buf_wipe(&pass);
	tidu_buf_free(&home);
	return code;
}

int cli_emit_json(tidu_json_writer *w, tidu_buf *out)
{
	int error = tidu_json_writer_finish(w), code = EXIT_OK;

	if (error < 0)
		code = cli_fail(error);
	else
		cli_print_json(out);
	tidu_buf_free(out);
	return code;
}

void cli_json_str(tidu_json_writer *w, const char *key, const char *v)
{
	tidu_json_write_key(w, key);
	if (v && *v)
		tidu_json_write_string(w, v);
	else
		tidu_json_write_null(w);
}

int cli_check_district(const char *d)
{
	if (d && (!tidu_dict_district_name(d) || tidu_dict_is_city(d)))
		return cli_error(EXIT_USAGE, _("unknown district '%s'"), d);
	return EXIT_OK;
}

const char *cli_choice(const char *list, const char *code)
{
	const char *l = code ? tidu_dict_choice_label(list, code) : NULL;

	return l ? l : code ? code : "";
}

void cli_import_error(void *ctx, size_t line, const char *message)
{
	cli_import_ui *ui = ctx;

	if (line)
		fprintf(stderr, _("tidu: %s:%zu: %s\n"), cli_safe(ui->file), line, cli_safe(message));
	else
		fprintf(stderr, "tidu: %s: %s\n", cli_safe(ui->file), cli_safe(message));
	free(ui->said);
	ui->said = tidu_strdup(message);
}

int cli_import_fail(cli_import_ui *ui, int error)
{
	/* the problem of the file was said, with its name: once is enough */
	int code = ui->said && !strcmp(ui->said, tidu_error_message()) ? cli_exit_code(error)
									 : cli_fail(error);

	free(ui->said);
	ui->said = NULL;
	return code;
}

/* The first failed write to stdout: its errno, and whether it was said. */
static int out_errno, out_reported;

int cli_output_failed(int err)
{
	if (!out_errno)
		out_errno = err ? err : EIO;
	if (!out_reported) {
		out_reported = 1;
		cli_error(EXIT_FAIL, "%s: %s", _("cannot write the output"), strerror(out_errno));
	}
	return EXIT_FAIL;
}

int cli_output_errno(int *reported)
{
	*reported = out_reported;
	return out_errno;
}

void cli_print_json(tidu_buf *json)
{
	errno = 0;
	if (fwrite(json->ptr ? json->ptr : "", 1, json->len, stdout) != json->len ||
	    fputc('\n', stdout) == EOF) {
		if (!out_errno)
			out_errno = errno ? errno : EIO; /* main() says so at the end */
	}
}

cli_json_opts cli_json_defaults;

const cli_opt cli_json_object_optv[] = {
	CLI_FLAG("json", N_("print one JSON object"), cli_json_defaults, json),
	CLI_OPT_END,
};

const cli_opt cli_json_array_optv[] = {
	CLI_FLAG("json", N_("print one JSON array"), cli_json_defaults, json),
	CLI_OPT_END,
};

int cli_run_need(cli_run *r, unsigned need)
{
	int code, error;

	if ((need & NEED_STORE) && !r->store) {
		if ((code = cli_open_store(r->ctx, &r->store)) != EXIT_OK)
			return code;
		progress_attach(r->store);
	}
	if ((need & NEED_KEYS & ~NEED_STORE) && (error = tidu_trust_ensure_keys(r->store)) < 0)
		return cli_fail(error);
	if ((need & NEED_CITY & ~NEED_KEYS) && strcmp(tidu_store_role(r->store), "city") != 0)
		return cli_error(EXIT_USAGE,
			_("'tidu admin' needs the city store: this store's role is '%s'"),
			tidu_store_role(r->store));
	return EXIT_OK;
}

/* The usage line and list of a group's subcommands. */
static void group_help(const cli_cmd *group)
{
	const cli_cmd *sub;

	printf("%s tidu %s", _("usage:"), group->name);
	for (sub = group->subs; sub->name; sub++)
		printf("%s%s", sub == group->subs ? " " : "|", sub->name);
	printf(" ...\n\n");
	for (sub = group->subs; sub->name; sub++) {
		printf("  ");
		cli_print_padded(stdout, sub->name, 10);
		printf("%s\n", _(sub->summary));
	}
}

/* Runs the subcommand of `group` named by argv[1], or its default. */
static int run_group(cli_ctx *ctx, const cli_cmd *group, int argc, char **argv)
{
	const cli_cmd *sub, *named = NULL;
	int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

	for (sub = group->subs; argc >= 2 && sub->name; sub++)
		if (!strcmp(argv[1], sub->name))
			named = sub;
	if (group->dflt && (group->dflt_on == CLI_DFLT_OPTION
			    ? argc < 2 || argv[1][0] == '-'
			    : !named && !help))
		return cli_run_cmd(ctx, group->dflt, argc, argv);
	if (named)
		return cli_run_cmd(ctx, named, argc - 1, argv + 1);
	if (argc >= 2 && !help)
		return cli_error(EXIT_USAGE,
			_("unknown command '%s %s': run 'tidu %s --help'"),
			group->name, argv[1], group->name);
	group_help(group);
	return help ? EXIT_OK : EXIT_USAGE;
}

int cli_run_cmd(cli_ctx *ctx, const cli_cmd *cmd, int argc, char **argv)
{
	cli_run r;
	cli_spec spec = cmd->spec;
	opt_dest dest;
	int code;

	if (cmd->raw)
		return cmd->raw(ctx, argc, argv);
	if (cmd->subs)
		return run_group(ctx, cmd, argc, argv);
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.opts = tidu_calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	if (cmd->defaults)
		memcpy(r.opts, cmd->defaults, cmd->opts_size);
	dest.base = r.opts;
	dest.defaults = cmd->defaults;
	if (!spec.summary)
		spec.summary = cmd->summary;
	if ((code = parse_into(ctx, &spec, &dest, argc, argv, &r.args, &r.nargs)) == EXIT_OK &&
	    (!cmd->check || (code = cmd->check(&r)) == EXIT_OK) &&
	    (code = cli_run_need(&r, cmd->need)) == EXIT_OK)
		code = cmd->run(&r);
	tidu_store_free(r.store);
	free(r.args);
	free(r.opts);
	return code;
}

void cli_local_minute(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, 32, "?");
}
