#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tidu/dict.h"
#include "tidu/trust.h"

int cmd_id(cli_ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const cli_opt opts[] = {
		{"json", OPT_FLAG, NULL, N_("print one JSON object"), &json},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {"tidu id [--json]",
			       N_("show this device's identity and key fingerprint"), opts, 0, 0};
	const char *name;
	tidu_store *s = NULL;
	tidu_trust_id id;
	char **args = NULL;
	int nargs, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK ||
	    (code = cli_open_store(ctx, &s)) != EXIT_OK)
		goto done;
	if ((error = tidu_trust_ensure_keys(s)) < 0 ||
	    (error = tidu_trust_identity(s, &id)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (json) {
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
		code = cli_emit_json(&w, &out);
		goto done;
	}
	name = tidu_dict_district_name(id.district);
	cli_print_padded(stdout, _("Device:"), 18);
	printf("%s (%s, %s)\n", id.device, tidu_store_officer(s), id.role);
	cli_print_padded(stdout, _("District:"), 18);
	printf("%s %s\n", id.district, name ? name : "");
	cli_print_padded(stdout, _("Fingerprint:"), 18);
	printf("%s\n", id.fingerprint);
	cli_print_padded(stdout, _("City key:"), 18);
	if (id.city_pinned)
		printf("%s\n", id.city_fingerprint);
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
done:
	tidu_store_free(s);
	free(args);
	return code;
}
