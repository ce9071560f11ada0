#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/dict.h"
#include "tidu/trust.h"

static int id_run(cli_run *r)
{
	const cli_json_opts *o = r->opts;
	tidu_store *s = r->store;
	const char *name;
	tidu_trust_id id;
	int error;

	if ((error = tidu_trust_identity(s, &id)) < 0)
		return cli_fail(error);
	if (o->json) {
		tidu_buf out = TIDU_BUF_INIT;
		tidu_json_writer w;

		tidu_json_writer_init(&w, &out, 1);
		tidu_json_begin_object(&w);
		tidu_json_write_key(&w, "device");
		tidu_json_write_string(&w, id.device);
		tidu_json_write_key(&w, "district");
		tidu_json_write_string(&w, id.district);
		tidu_json_write_key(&w, "role");
		tidu_json_write_string(&w, id.role);
		tidu_json_write_key(&w, "officer");
		tidu_json_write_string(&w, tidu_store_officer(s));
		tidu_json_write_key(&w, "fingerprint");
		tidu_json_write_string(&w, id.fingerprint);
		tidu_json_write_key(&w, "city_pinned");
		tidu_json_write_bool(&w, id.city_pinned);
		tidu_json_write_key(&w, "city_fingerprint");
		if (id.city_pinned)
			tidu_json_write_string(&w, id.city_fingerprint);
		else
			tidu_json_write_null(&w);
		tidu_json_write_key(&w, "enrolled");
		tidu_json_write_bool(&w, id.enrolled);
		tidu_json_write_key(&w, "revoked");
		tidu_json_write_bool(&w, id.revoked);
		tidu_json_write_key(&w, "keyring_version");
		tidu_json_write_int64(&w, id.keyring_version);
		tidu_json_end_object(&w);
		return cli_emit_json(&w, &out);
	}
	name = tidu_dict_district_name(id.district);
	cli_print_padded(stdout, _("Device:"), 18);
	printf("%s (%s, %s)\n", cli_safe(id.device), cli_safe(tidu_store_officer(s)),
	       cli_safe(id.role));
	cli_print_padded(stdout, _("District:"), 18);
	printf("%s %s\n", cli_safe(id.district), name ? name : "");
	cli_print_padded(stdout, _("Fingerprint:"), 18);
	printf("%s\n", cli_safe(id.fingerprint));
	cli_print_padded(stdout, _("City key:"), 18);
	if (id.city_pinned)
		printf("%s\n", cli_safe(id.city_fingerprint));
	else
		printf("%s\n", _("not pinned: the first keyring imported pins it"));
	cli_print_padded(stdout, _("Keyring:"), 18);
	if (!id.keyring_version && strcmp(id.role, "city") != 0)
		printf("%s\n", _("none imported"));
	else if (id.revoked)
		printf(_("version %lld, this device is revoked\n"), (long long)id.keyring_version);
	else if (id.enrolled)
		printf(_("version %lld, this device is enrolled\n"), (long long)id.keyring_version);
	else
		printf(_("version %lld, this device is not enrolled\n"), (long long)id.keyring_version);
	return EXIT_OK;
}

const cli_cmd cmd_id = {
	.name = "id", .summary = N_("show this device's identity and key fingerprint"),
	.spec = {"tidu id [--json]", NULL, cli_json_object_optv, 0, 0},
	CLI_OPTS(cli_json_defaults), .need = NEED_KEYS, .run = id_run,
};
