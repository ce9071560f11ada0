#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "tidu/alloc.h"
#include "tidu/changes.h"
#include "tidu/trust.h"

typedef struct {
	int json;
} changes_opts;

/* What the option tables point into; never written (cli_cmd.defaults). */
static changes_opts changes_defaults;

static const cli_opt apply_optv[] = {
	CLI_FLAG("json", N_("print one JSON array of reports"), changes_defaults, json),
	CLI_OPT_END,
};

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
	return EXIT_OK;
}

static int changes_export(cli_run *r)
{
	size_t written, skipped;
	int error;

	if ((error = tidu_changes_export(r->store, r->args[0], &written, &skipped)) < 0)
		return cli_fail(error);
	printf(_("Wrote %zu change sets to %s (%zu were there already)\n"),
	       written, r->args[0], skipped);
	return EXIT_OK;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects regular files under `path` (a file or a folder), recursively. */
static void collect(const char *path, char ***list, size_t *n, size_t *cap)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;

	if (stat(path, &sb) < 0 || (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))) {
		/* Kept, so that the apply loop reports it as unreadable. */
	} else if (S_ISDIR(sb.st_mode) && (d = opendir(path))) {
		while ((de = readdir(d))) {
			tidu_buf sub = TIDU_BUF_INIT;

			if (de->d_name[0] == '.')
				continue;
			tidu_buf_printf(&sub, "%s/%s", path, de->d_name);
			collect(sub.ptr, list, n, cap);
			tidu_buf_free(&sub);
		}
		closedir(d);
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*list = tidu_reallocarray(*list, *cap, sizeof(**list));
	}
	(*list)[(*n)++] = tidu_strdup(path);
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
	size_t counts[5] = {0}, stuck = 0, nfiles = 0, cap = 0, i, changes = 0, conflicts = 0;
	tidu_buf data = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	tidu_json_writer w;
	tidu_store *s = r->store;
	char **files = NULL;
	int code = EXIT_OK, error;

	for (i = 0; i < (size_t)r->nargs; i++)
		collect(r->args[i], &files, &nfiles, &cap);
	/* Sorted paths apply a device's files in order: fewer are held. */
	qsort(files, nfiles, sizeof(*files), cmp_path);
	if (json) {
		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_array(&w);
	}
	for (i = 0; i < nfiles; i++) {
		tidu_apply_report rep;

		memset(&rep, 0, sizeof(rep));
		error = tidu_trust_doc_read(files[i], &data);
		if (error == TIDU_EINVAL || error == TIDU_ENOTFOUND) {
			rep.outcome = TIDU_APPLY_REJECTED;
			snprintf(rep.reason, sizeof(rep.reason), "%s", tidu_error_message());
		} else if (error < 0 ||
			   (error = tidu_changes_apply(s, (const unsigned char *)data.ptr,
						       data.len, files[i], &rep)) < 0) {
			code = cli_fail(error);
			goto done;
		}
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
		printf("%-10s %s", outcome_name(rep.outcome), files[i]);
		if (rep.outcome == TIDU_APPLY_APPLIED)
			printf(_(" (%zu changes, %zu conflicts)"), rep.changes, rep.conflicts);
		if (rep.reason[0] && rep.outcome != TIDU_APPLY_DUPLICATE)
			printf(": %s", rep.reason);
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
done:
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
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
	{.name = "log", .summary = N_("list the change sets this store holds"),
	 .spec = {"tidu changes log [--json]", NULL, cli_json_array_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_STORE, .run = changes_log},
	{.name = NULL},
};

const cli_cmd cmd_changes = {
	.name = "changes", .summary = N_("seal, export, apply and list change sets"),
	.subs = changes_subs,
};
