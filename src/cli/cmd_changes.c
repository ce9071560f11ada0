#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/file.h"
#include "tidu/trust.h"

typedef struct {
	int json;
	int all; /* pending: list every pending change too */
} changes_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static changes_opts changes_defaults;

static const cli_opt apply_optv[] = {
	CLI_FLAG("json", N_("print one JSON array of reports"), changes_defaults, json),
	CLI_OPT_END,
};

static const cli_opt pending_optv[] = {
	CLI_FLAG("all", N_("list every change waiting to be sealed, not only the count"),
		 changes_defaults, all),
	CLI_FLAG("json", N_("print one JSON object"), changes_defaults, json),
	CLI_OPT_END,
};

/* Says on stderr that changes were set aside, if any (after seal and sync). */
void cli_changes_warn_aside(tidu_store *s)
{
	tidu_outbox_counts oc;

	if (tidu_changes_outbox_counts(s, &oc) < 0) {
		tidu_error_clear();
		return;
	}
	if (oc.aside)
		cli_warn(_("%lld changes cannot be sent and wait set aside: see 'tidu changes pending'"),
			 (long long)oc.aside);
}

static void pending_json(tidu_json_writer *w, const tidu_outbox_counts *oc,
			 const tidu_outbox_item *it, size_t n, int all)
{
	size_t i;
	int e;

	tidu_json_begin_object(w);
	tidu_json_write_key(w, "pending");
	tidu_json_write_int64(w, oc->pending);
	tidu_json_write_key(w, "by_entity");
	tidu_json_begin_object(w);
	for (e = 1; tidu_changeset_entity_name(e); e++) {
		tidu_json_write_key(w, tidu_changeset_entity_name(e));
		tidu_json_write_int64(w, oc->by_entity[e]);
	}
	tidu_json_end_object(w);
	tidu_json_write_key(w, "set_aside");
	tidu_json_write_int64(w, oc->aside);
	tidu_json_write_key(w, "changes");
	tidu_json_begin_array(w);
	for (i = 0; i < n; i++) {
		if (!all && !it[i].reason)
			continue;
		tidu_json_begin_object(w);
		tidu_json_write_key(w, "id");
		tidu_json_write_int64(w, it[i].id);
		tidu_json_write_key(w, "state");
		tidu_json_write_string(w, it[i].reason ? "set_aside" : "pending");
		tidu_json_write_key(w, "entity");
		tidu_json_write_string(w, it[i].entity);
		tidu_json_write_key(w, "key");
		tidu_json_write_string(w, it[i].key);
		tidu_json_write_key(w, "device");
		tidu_json_write_string(w, it[i].device);
		tidu_json_write_key(w, "wall_ms");
		tidu_json_write_int64(w, it[i].wall);
		tidu_json_write_key(w, "fields");
		tidu_json_write_int64(w, (int64_t)it[i].fields);
		tidu_json_write_key(w, "reason");
		if (it[i].reason)
			tidu_json_write_string(w, it[i].reason);
		else
			tidu_json_write_null(w);
		tidu_json_end_object(w);
	}
	tidu_json_end_array(w);
	tidu_json_end_object(w);
}

/* tidu changes pending [--all] [--json]: what waits to be sealed, and what cannot go. */
static int changes_pending(cli_run *r)
{
	const changes_opts *o = r->opts;
	tidu_outbox_counts oc;
	tidu_outbox_item *it = NULL;
	tidu_buf out = TIDU_BUF_INIT;
	size_t n = 0, i;
	int code = EXIT_OK, error, e;
	char when[32];

	if ((error = tidu_changes_outbox_counts(r->store, &oc)) < 0 ||
	    (error = tidu_changes_outbox(r->store, o->all, 0, &it, &n)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		pending_json(&w, &oc, it, n, o->all);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	printf(_("%lld changes wait to be sealed"), (long long)oc.pending);
	for (e = 1; oc.pending && tidu_changeset_entity_name(e); e++)
		printf("%s%s %lld", e == 1 ? " (" : ", ", tidu_changeset_entity_name(e),
		       (long long)oc.by_entity[e]);
	printf("%s\n", oc.pending ? ")" : "");
	if (oc.aside)
		printf(_("%lld changes are set aside: they cannot be sent as they are\n"),
		       (long long)oc.aside);
	for (i = 0; i < n; i++) {
		cli_local_minute(it[i].wall, when);
		printf("  #%-8lld %-10s %s  %s  %s  ", (long long)it[i].id,
		       it[i].reason ? _("set aside") : _("pending"), when,
		       cli_safe(it[i].entity), cli_safe(it[i].key));
		printf(_("%zu fields"), it[i].fields);
		if (it[i].reason)
			printf(": %s", cli_safe(it[i].reason));
		printf("\n");
	}
	if (oc.aside)
		printf("%s\n", _("Correct the record (e.g. 'tidu firm set') and sync: the new value "
				 "goes out. 'tidu changes retry' tries the set-aside changes again."));
done:
	tidu_changes_outbox_free(it, n);
	tidu_buf_free(&out);
	return code;
}

/* tidu changes retry: the set-aside changes go back in the outbox. */
static int changes_retry(cli_run *r)
{
	size_t n;
	int error;

	if ((error = tidu_changes_retry(r->store, &n)) < 0)
		return cli_fail(error);
	printf(_("Put %zu set-aside changes back in the outbox\n"), n);
	return EXIT_OK;
}

static int changes_seal(cli_run *r)
{
	tidu_store *s = r->store;
	uint64_t seq;
	size_t count, sealed = 0;
	char district[16];
	int error;

	do {
		if ((error = tidu_changes_seal_for(s, &seq, &count, district)) < 0)
			return cli_fail(error);
		if (count && strcmp(district, tidu_store_district(s)))
			printf(_("Sealed change set %llu with %zu changes for district %s (the city's desk)\n"),
			       (unsigned long long)seq, count, district);
		else if (count)
			printf(_("Sealed change set %llu with %zu changes\n"),
			       (unsigned long long)seq, count);
		else if (!sealed)
			printf("%s\n", _("Nothing to seal: no pending changes"));
		sealed += count;
	} while (count);
	cli_changes_warn_aside(s);
	return EXIT_OK;
}

static int changes_export(cli_run *r)
{
	tidu_export_report rep;
	int error;

	if ((error = tidu_changes_export(r->store, r->args[0], &rep)) < 0)
		return cli_fail(error);
	if (rep.cleaned)
		printf(_("Removed %zu leftover temporary files of an interrupted export\n"),
		       rep.cleaned);
	if (rep.repaired)
		printf(_("Repaired %zu damaged or different change-set files\n"),
		       rep.repaired);
	printf(_("Wrote %zu change sets to %s (%zu were there already)\n"),
	       rep.written + rep.repaired, cli_safe(r->args[0]), rep.skipped);
	return EXIT_OK;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How deep a folder walk goes: far below any loop's 40 levels, above any layout. */
#define WALK_DEPTH 16

/* What collect() found: the files to try, and what it left out and why. */
typedef struct {
	char **files;
	size_t n, cap;
	char **skipped;  /* paths left out, as found */
	const char **why; /* and why (translated) */
	size_t nskipped, skip_cap;
	struct { dev_t dev; ino_t ino; } *seen; /* folders walked: no loops */
	size_t nseen, seen_cap;
} walk;

static void add_file(walk *w, const char *path)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->files = tidu_reallocarray(w->files, w->cap, sizeof(*w->files));
	}
	w->files[w->n++] = tidu_strdup(path);
}

static void add_skip(walk *w, const char *path, const char *why)
{
	if (w->nskipped == w->skip_cap) {
		w->skip_cap = w->skip_cap ? w->skip_cap * 2 : 16;
		w->skipped = tidu_reallocarray(w->skipped, w->skip_cap, sizeof(*w->skipped));
		w->why = tidu_reallocarray(w->why, w->skip_cap, sizeof(*w->why));
	}
	w->why[w->nskipped] = why;
	w->skipped[w->nskipped++] = tidu_strdup(path);
}

/* Whether the folder `sb` was walked already (a symlink loop, or named twice). */
static int seen_before(walk *w, const struct stat *sb)
{
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == sb->st_dev && w->seen[i].ino == sb->st_ino)
			return 1;
	if (w->nseen == w->seen_cap) {
		w->seen_cap = w->seen_cap ? w->seen_cap * 2 : 16;
		w->seen = tidu_reallocarray(w->seen, w->seen_cap, sizeof(*w->seen));
	}
	w->seen[w->nseen].dev = sb->st_dev;
	w->seen[w->nseen++].ino = sb->st_ino;
	return 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/*
 * Collects the files under `path`. A path named on the command line
 * (depth 0) is always tried, whatever its name. Inside a folder only
 * `*.tcs` files are: anything else (readme.txt, desktop.ini, Thumbs.db) is
 * listed as skipped, hidden entries (., ._*, .git) are passed over in
 * silence. Symbolic links are followed, but a folder is walked once: a
 * link back up (a loop) is reported once and not followed.
 */
static void collect(walk *w, const char *path, int depth)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;

	if (stat(path, &sb) < 0) {
		if (depth == 0)
			add_file(w, path); /* the apply loop reports it as unreadable */
		else
			add_skip(w, path, errno == ELOOP ? _("a symbolic link loop")
							 : _("a broken symbolic link"));
		return;
	}
	if (S_ISREG(sb.st_mode)) {
		if (depth == 0 || ends_with(path, ".tcs"))
			add_file(w, path);
		else
			add_skip(w, path, _("not a change set (its name does not end in .tcs)"));
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		if (depth == 0)
			add_file(w, path);
		else
			add_skip(w, path, _("not a regular file"));
		return;
	}
	if (seen_before(w, &sb)) {
		add_skip(w, path, _("a folder visited already (a symbolic link loop?): not followed"));
		return;
	}
	if (depth >= WALK_DEPTH) {
		add_skip(w, path, _("folders nested too deep: not followed"));
		return;
	}
	if (!(d = opendir(path))) {
		add_file(w, path); /* reported as unreadable */
		return;
	}
	while ((de = readdir(d))) {
		tidu_buf sub = TIDU_BUF_INIT;

		if (de->d_name[0] == '.')
			continue;
		tidu_buf_printf(&sub, "%s/%s", path, de->d_name);
		collect(w, sub.ptr, depth + 1);
		tidu_buf_free(&sub);
	}
	closedir(d);
}

static void walk_free(walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->files[i]);
	for (i = 0; i < w->nskipped; i++)
		free(w->skipped[i]);
	free(w->files);
	free(w->skipped);
	free(w->why);
	free(w->seen);
}

/*
 * A store that holds no keyring cannot check any change set: say what to
 * do once instead of rejecting every file. The city store is its own root.
 */
static int need_keyring(tidu_store *s)
{
	int64_t version = 0;
	tidu_buf doc = TIDU_BUF_INIT;
	int error;

	if (!strcmp(tidu_store_role(s), "city"))
		return 0;
	error = tidu_trust_keyring_latest(s, &version, &doc);
	tidu_buf_free(&doc);
	if (error < 0)
		return error;
	if (!version)
		return tidu_error_set(TIDU_EINVAL, "%s",
			_("this store holds no keyring yet, so no change set can be checked: "
			  "import the keyring first: tidu keyring import FILE (or run tidu sync)"));
	return 0;
}

static const char *outcome_name(tidu_apply_outcome o)
{
	switch (o) {
	case TIDU_APPLY_APPLIED: return _("applied");
	case TIDU_APPLY_DUPLICATE: return _("duplicate");
	case TIDU_APPLY_HELD: return _("held");
	case TIDU_APPLY_SKIPPED: return _("skipped");
	default: return _("rejected");
	}
}

static int changes_apply(cli_run *r)
{
	int json = ((const changes_opts *)r->opts)->json;
	size_t counts[5] = {0}, stuck = 0, nfiles = 0, i, changes = 0, conflicts = 0;
	tidu_buf data = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_store *s = r->store;
	walk found;
	char **files;
	const char *named_empty = NULL;
	int code = EXIT_OK, error;

	memset(&found, 0, sizeof(found));
	if ((error = need_keyring(s)) < 0)
		return cli_fail(error);
	/* A name given that is not there is the user's mistake: nothing applied. */
	for (i = 0; i < (size_t)r->nargs; i++) {
		struct stat sb;

		if (stat(r->args[i], &sb) < 0)
			return cli_error(EXIT_USAGE, _("cannot read '%s': %s"), r->args[i],
					 strerror(errno));
	}
	for (i = 0; i < (size_t)r->nargs; i++)
		collect(&found, r->args[i], 0);
	files = found.files;
	nfiles = found.n;
	/* Sorted paths apply a device's files in order: fewer are held. */
	if (nfiles)
		qsort(files, nfiles, sizeof(*files), cmp_path);
	if (json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
	}
	/* What is not a change set is listed, never "rejected": exit 0. */
	for (i = 0; i < found.nskipped; i++) {
		counts[TIDU_APPLY_SKIPPED]++;
		if (!json) {
			printf("%-10s %s: %s\n", outcome_name(TIDU_APPLY_SKIPPED),
			       cli_safe(found.skipped[i]), found.why[i]);
			continue;
		}
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "file");
		tidu_json_write_string(&w, found.skipped[i]);
		tidu_json_write_key(&w, "outcome");
		tidu_json_write_string(&w, "skipped");
		tidu_json_write_key(&w, "device");
		tidu_json_write_string(&w, "");
		static const char *const zero[] = {"seq", "changes", "conflicts",
						   "clock_ahead_ms"};
		for (size_t k = 0; k < sizeof(zero) / sizeof(*zero); k++) {
			tidu_json_write_key(&w, zero[k]);
			tidu_json_write_int64(&w, 0);
		}
		tidu_json_write_key(&w, "reason");
		tidu_json_write_string(&w, found.why[i]);
		tidu_json_end_object(&w);
	}
	for (i = 0; i < nfiles; i++) {
		tidu_apply_report rep;

		memset(&rep, 0, sizeof(rep));
		error = tidu_file_read(files[i], TIDU_CHANGESET_MAX_FILE, &data);
		if (error == TIDU_EINVAL || error == TIDU_ENOTFOUND) {
			rep.outcome = TIDU_APPLY_REJECTED;
			snprintf(rep.reason, sizeof(rep.reason), "%s", tidu_error_message());
		} else if (error == 0 && data.len == 0) {
			/* An interrupted copy, not a forgery: nothing to check. */
			rep.outcome = TIDU_APPLY_SKIPPED;
			snprintf(rep.reason, sizeof(rep.reason), "%s",
				 _("the file is empty (an interrupted copy?)"));
		} else if (error < 0 ||
			   (error = tidu_changes_apply(s, (const unsigned char *)data.ptr,
						       data.len, files[i], &rep)) < 0) {
			code = cli_fail(error);
			goto done;
		}
		/* An empty file named on the command line is a mistake, not a stray. */
		if (rep.outcome == TIDU_APPLY_SKIPPED && !named_empty)
			for (size_t a = 0; a < (size_t)r->nargs; a++)
				if (!strcmp(r->args[a], files[i]))
					named_empty = files[i];
		counts[rep.outcome]++;
		stuck += rep.stuck;
		changes += rep.changes;
		conflicts += rep.conflicts;
		if (json) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "file");
			tidu_json_write_string(&w, files[i]);
			tidu_json_write_key(&w, "outcome");
			tidu_json_write_string(&w, (const char *[]){"applied", "duplicate",
				"held", "skipped", "rejected"}[rep.outcome]);
			tidu_json_write_key(&w, "device");
			tidu_json_write_string(&w, rep.device);
			tidu_json_write_key(&w, "seq");
			tidu_json_write_int64(&w, (int64_t)rep.seq);
			tidu_json_write_key(&w, "changes");
			tidu_json_write_int64(&w, (int64_t)rep.changes);
			tidu_json_write_key(&w, "conflicts");
			tidu_json_write_int64(&w, (int64_t)rep.conflicts);
			tidu_json_write_key(&w, "clock_ahead_ms");
			tidu_json_write_int64(&w, rep.ahead_ms);
			tidu_json_write_key(&w, "reason");
			tidu_json_write_string(&w, rep.reason);
			tidu_json_end_object(&w);
			continue;
		}
		printf("%-10s %s", outcome_name(rep.outcome), cli_safe(files[i]));
		if (rep.outcome == TIDU_APPLY_APPLIED)
			printf(_(" (%zu changes, %zu conflicts)"), rep.changes, rep.conflicts);
		if (rep.reason[0] && rep.outcome != TIDU_APPLY_DUPLICATE)
			printf(": %s", cli_safe(rep.reason));
		printf("\n");
		if (rep.ahead_ms)
			cli_warn(_("'%s': the clock of device '%s' is %lld minutes ahead"),
				 files[i], rep.device, (long long)(rep.ahead_ms / 60000));
	}
	if (json) {
		int jcode;

		tidu_json_end_array(&w);
		if ((jcode = cli_emit_json(&w, &out)) != EXIT_OK)
			code = jcode;
	} else {
		printf(_("%zu applied, %zu duplicate, %zu held, %zu skipped, %zu rejected; "
			 "%zu changes merged, %zu conflicts\n"),
		       counts[0], counts[1], counts[2], counts[3], counts[4], changes, conflicts);
	}
	if (counts[TIDU_APPLY_REJECTED] || stuck)
		code = EXIT_CORRUPT;
	else if (named_empty && code == EXIT_OK)
		code = cli_error(EXIT_USAGE, _("'%s' is empty: it holds no change set"), named_empty);
done:
	walk_free(&found);
	tidu_buf_free(&data);
	tidu_buf_free(&out);
	return code;
}

static int changes_log(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_changes_entry *e = NULL;
	tidu_buf out = TIDU_BUF_INIT;
	tidu_store *s = r->store;
	size_t n = 0, i;
	int code = EXIT_OK, error;

	if ((error = tidu_changes_list(s, &e, &n)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
		for (i = 0; i < n; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "device");
			tidu_json_write_string(&w, e[i].device);
			tidu_json_write_key(&w, "district");
			tidu_json_write_string(&w, e[i].district);
			tidu_json_write_key(&w, "seq");
			tidu_json_write_int64(&w, (int64_t)e[i].seq);
			tidu_json_write_key(&w, "changes");
			tidu_json_write_int64(&w, e[i].count);
			tidu_json_write_key(&w, "hlc_min");
			tidu_json_write_int64(&w, (int64_t)e[i].hlc_min);
			tidu_json_write_key(&w, "hlc_max");
			tidu_json_write_int64(&w, (int64_t)e[i].hlc_max);
			tidu_json_write_key(&w, "state");
			tidu_json_write_string(&w, e[i].state);
			tidu_json_write_key(&w, "bytes");
			tidu_json_write_int64(&w, (int64_t)e[i].bytes);
			tidu_json_write_key(&w, "hash");
			tidu_json_write_string(&w, e[i].hash);
			tidu_json_write_key(&w, "mine");
			tidu_json_write_bool(&w, !strcmp(e[i].device, tidu_store_device(s)));
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	for (i = 0; i < n; i++)
		printf("%s/%s/%-6llu %-8s %6u %s %8zu B  %s\n", e[i].district, e[i].device,
		       (unsigned long long)e[i].seq, e[i].state, e[i].count, _("changes"),
		       e[i].bytes, e[i].hash);
	printf(_("%zu change sets\n"), n);
done:
	free(e);
	tidu_buf_free(&out);
	return code;
}

static const cli_cmd changes_subs[] = {
	{.name = "seal",
	 .summary = N_("seal the pending changes into this device's next change set"),
	 .spec = {"tidu changes seal", NULL, NULL, 0, 0},
	 .need = NEED_STORE, .run = changes_seal},
	{.name = "export", .summary = N_("write every change set this store holds into DIR"),
	 .spec = {"tidu changes export DIR", NULL, NULL, 1, 1},
	 .need = NEED_STORE, .run = changes_export},
	{.name = "apply",
	 .summary = N_("apply change-set files (files or folders); idempotent"),
	 .spec = {"tidu changes apply PATH... [--json]", NULL, apply_optv, 1, -1},
	 CLI_OPTS(changes_defaults), .need = NEED_STORE, .run = changes_apply},
	{.name = "pending",
	 .summary = N_("what waits to be sealed, and the changes set aside with why"),
	 .spec = {"tidu changes pending [--all] [--json]", NULL, pending_optv, 0, 0},
	 CLI_OPTS(changes_defaults), .need = NEED_STORE, .run = changes_pending},
	{.name = "retry", .summary = N_("put the set-aside changes back in the outbox"),
	 .spec = {"tidu changes retry", NULL, NULL, 0, 0},
	 .need = NEED_STORE, .run = changes_retry},
	{.name = "log", .summary = N_("list the change sets this store holds"),
	 .spec = {"tidu changes log [--json]", NULL, cli_json_array_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = changes_log},
	{.name = NULL},
};

const cli_cmd cmd_changes = {
	.name = "changes", .summary = N_("seal, export, apply and list change sets"),
	.subs = changes_subs,
};
