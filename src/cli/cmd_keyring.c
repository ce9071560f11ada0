#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/trust.h"

/* tidu keyring export FILE */
static int keyring_export(cli_run *r)
{
	tidu_buf doc = TIDU_BUF_INIT;
	tidu_trust_id id;
	int code = EXIT_OK, error;

	if ((error = tidu_trust_keyring_export(r->store, &doc)) < 0 ||
	    (error = tidu_trust_doc_write(r->args[0], doc.ptr, doc.len)) < 0 ||
	    (error = tidu_trust_identity(r->store, &id)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Wrote keyring version %lld to %s, signed by city %s.\n"),
	       (long long)id.keyring_version, cli_safe(r->args[0]), cli_safe(id.fingerprint));
	printf(_("Give it to every device: tidu keyring import %s\n"), cli_safe(r->args[0]));
done:
	tidu_buf_free(&doc);
	return code;
}

/* tidu keyring import FILE */
static int keyring_import(cli_run *r)
{
	tidu_buf doc = TIDU_BUF_INIT;
	tidu_trust_import info;
	int code = EXIT_OK, error;

	if ((error = tidu_trust_doc_read(r->args[0], &doc)) < 0 ||
	    (error = tidu_trust_keyring_import(r->store, doc.ptr, doc.len, &info)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (info.pinned)
		printf(_("Pinned the city key %s (first keyring): check this fingerprint with the city.\n"),
		       cli_safe(info.city_fingerprint));
	if (info.current)
		printf(_("Keyring version %lld is the current one already: nothing changed.\n"),
		       (long long)info.version);
	else
		printf(_("Imported keyring version %lld from city %s: %zu devices; read keys new to this device: %zu.\n"),
		       (long long)info.version, cli_safe(info.city_fingerprint), info.devices,
		       info.keys_new);
	if (info.revoked)
		cli_warn("%s", _("this device is revoked in the keyring: its new change sets will be refused"));
	else if (!info.enrolled)
		printf("%s\n", _("This device is not in the keyring yet: ask the city to enroll it."));
done:
	tidu_buf_free(&doc);
	return code;
}

/* tidu keyring show [--json] */
static int keyring_show(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_trust_device *devs = NULL;
	tidu_trust_keypair *kps = NULL;
	size_t ndevs = 0, nkps = 0, i;
	tidu_store *s = r->store;
	tidu_trust_id id;
	int code = EXIT_OK, error;

	if ((error = tidu_trust_identity(s, &id)) < 0 ||
	    (error = tidu_trust_device_list(s, &devs, &ndevs)) < 0 ||
	    (error = tidu_trust_reader_keys(s, &kps, &nkps)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "version");
		tidu_json_write_int64(&w, id.keyring_version);
		tidu_json_write_key(&w, "city_fingerprint");
		if (id.city_pinned)
			tidu_json_write_string(&w, id.city_fingerprint);
		else
			tidu_json_write_null(&w);
		tidu_json_write_key(&w, "devices");
		tidu_json_begin_array(&w);
		for (i = 0; i < ndevs; i++) {
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "device");
			tidu_json_write_string(&w, devs[i].device);
			tidu_json_write_key(&w, "district");
			tidu_json_write_string(&w, devs[i].district);
			tidu_json_write_key(&w, "role");
			tidu_json_write_string(&w, devs[i].role);
			tidu_json_write_key(&w, "officer");
			tidu_json_write_string(&w, devs[i].officer);
			tidu_json_write_key(&w, "fingerprint");
			tidu_json_write_string(&w, devs[i].fingerprint);
			tidu_json_write_key(&w, "revoked_after");
			if (devs[i].revoked)
				tidu_json_write_int64(&w, devs[i].revoked_after);
			else
				tidu_json_write_null(&w);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_write_key(&w, "read_keys");
		tidu_json_begin_array(&w);
		for (i = 0; i < nkps; i++) {
			if (!kps[i].district[0])
				continue; /* the city's own box key */
			tidu_json_begin_object(&w);
			tidu_json_write_key(&w, "district");
			tidu_json_write_string(&w, kps[i].district);
			tidu_json_write_key(&w, "epoch");
			tidu_json_write_int64(&w, kps[i].epoch);
			tidu_json_end_object(&w);
		}
		tidu_json_end_array(&w);
		tidu_json_end_object(&w);
		code = cli_emit_json(&w, &out);
		goto done;
	}
	if (id.keyring_version)
		printf(_("Keyring version %lld, city %s\n"), (long long)id.keyring_version,
		       cli_safe(id.city_fingerprint));
	else
		printf("%s\n", _("No keyring yet."));
	for (i = 0; i < ndevs; i++) {
		printf("  %s  %s  ", cli_safe(devs[i].device), cli_safe(devs[i].fingerprint));
		cli_print_padded(stdout, devs[i].role, 9);
		printf(" %s  ", cli_safe(devs[i].district));
		if (devs[i].revoked)
			printf(_("revoked after %lld  "), (long long)devs[i].revoked_after);
		printf("%s\n", cli_safe(devs[i].officer));
	}
	printf("%s", _("Read keys held here:"));
	for (i = 0; i < nkps; i++)
		if (kps[i].district[0])
			printf(" %s/%lld", cli_safe(kps[i].district), (long long)kps[i].epoch);
	printf("\n");
done:
	tidu_trust_keypairs_free(kps, nkps);
	free(devs);
	return code;
}

static const cli_cmd keyring_subs[] = {
	{.name = "export",
	 .summary = N_("sign a new keyring version and write it to FILE (city store)"),
	 .spec = {"tidu keyring export FILE", NULL, NULL, 1, 1},
	 .need = NEED_KEYS, .run = keyring_export},
	{.name = "import", .summary = N_("verify the city's keyring in FILE and take its keys"),
	 .spec = {"tidu keyring import FILE", NULL, NULL, 1, 1},
	 .need = NEED_KEYS, .run = keyring_import},
	{.name = "show",
	 .summary = N_("list the devices of the keyring and the read keys held here"),
	 .spec = {"tidu keyring show [--json]", NULL, cli_json_object_optv, 0, 0},
	 CLI_OPTS(cli_json_defaults), .need = NEED_KEYS, .run = keyring_show},
	{.name = NULL},
};

const cli_cmd cmd_keyring = {
	.name = "keyring", .summary = N_("export, import and show the city's signed keyring"),
	.subs = keyring_subs,
};
