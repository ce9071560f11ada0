#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "tidu/dict.h"
#include "tidu/keyfile.h"

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
	const char *district = NULL, *officer = NULL, *role = "officer";
	const cli_opt opts[] = {
		{"district", OPT_STRING, "CODE", N_("district code of this device (e.g. 410105)"), &district},
		{"officer", OPT_STRING, "NAME", N_("name of the officer using this device"), &officer},
		{"role", OPT_STRING, "ROLE", N_("officer (default), district or city"), &role},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {
		"tidu init --district CODE --officer NAME [--role officer|district|city]",
		N_("create a new encrypted store on this device"), opts, 0, 0,
	};
	tidu_buf home = TIDU_BUF_INIT, pass = TIDU_BUF_INIT;
	char recovery[TIDU_RECOVERY_TEXT_MAX];
	tidu_store_identity id;
	tidu_store *s = NULL;
	char **args = NULL;
	int nargs, code, error;

	if ((code = cli_parse(ctx, &spec, argc, argv, &args, &nargs)) != EXIT_OK)
		goto done;
	if (!district || !officer) {
		code = cli_error(EXIT_USAGE, "%s", _("both --district and --officer are required"));
		goto done;
	}
	if (!tidu_dict_district_name(district)) {
		code = cli_error(EXIT_USAGE,
			_("unknown district '%s': use a code from the division list"),
			district);
		goto done;
	}
	if ((code = cli_home(ctx, &home)) != EXIT_OK)
		goto done;
	if (tidu_store_exists(home.ptr)) {
		code = cli_error(EXIT_USAGE, _("a store exists already in '%s'"), home.ptr);
		goto done;
	}
	if ((code = cli_passphrase(ctx->passfile, "TIDU_PASSPHRASE",
				   _("New passphrase: "), 1, &pass)) != EXIT_OK)
		goto done;
	if (pass.len < 8) {
		code = cli_error(EXIT_PASS, "%s", _("the passphrase is too short: use at least 8 characters"));
		goto done;
	}
	id.district = district;
	id.officer = officer;
	id.role = role;
	if ((error = tidu_store_create(&s, home.ptr, &id, pass.ptr, pass.len,
				       recovery, sizeof(recovery))) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Created the store in %s\n"), tidu_store_path(s));
	printf(_("Device id: %s\n"), tidu_store_device(s));
	printf(_("District:  %s %s\n"), district, tidu_dict_district_name(district));
	printf(_("Officer:   %s (%s)\n"), officer, role);
	printf("\n%s\n  %s\n%s\n",
	       _("Recovery key (shown only this once; write it down and keep it apart from this device):"),
	       recovery,
	       _("With it, 'tidu passwd --recovery-key' sets a new passphrase if this one is forgotten."));
	code = EXIT_OK;
done:
	sodium_memzero(recovery, sizeof(recovery));
	if (pass.ptr)
		sodium_memzero(pass.ptr, pass.cap);
	tidu_buf_free(&pass);
	tidu_buf_free(&home);
	tidu_store_free(s);
	free(args);
	return code;
}
