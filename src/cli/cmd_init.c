#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "tidu/dict.h"
#include "tidu/home.h"
#include "tidu/keyfile.h"
#include "tidu/repo.h"
#include "tidu/trust.h"

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
	const char *district = NULL, *officer = NULL, *role = "officer", *city_key = NULL,
		   *remote = NULL;
	const cli_opt opts[] = {
		{"district", OPT_STRING, "CODE", N_("district code of this device (e.g. 410105)"), &district},
		{"officer", OPT_STRING, "NAME", N_("name of the officer using this device"), &officer},
		{"role", OPT_STRING, "ROLE", N_("officer (default), district or city"), &role},
		{"city-key", OPT_STRING, "FINGERPRINT", N_("pin the city's key by its fingerprint"), &city_key},
		{"remote", OPT_STRING, "URL", N_("the central repository to sync with (remote 'origin')"), &remote},
		{NULL, 0, NULL, NULL, NULL},
	};
	const cli_spec spec = {
		"tidu init --district CODE --officer NAME [--role officer|district|city] [--city-key FINGERPRINT] [--remote URL]",
		N_("create a new encrypted store on this device"), opts, 0, 0,
	};
	tidu_buf home = TIDU_BUF_INIT, pass = TIDU_BUF_INIT;
	char recovery[TIDU_RECOVERY_TEXT_MAX], fp[TIDU_TRUST_FP_SIZE];
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
	if ((error = tidu_trust_officer_check(officer)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (!tidu_dict_district_name(district)) {
		code = cli_error(EXIT_USAGE,
			_("unknown district '%s': use a code from the division list"),
			district);
		goto done;
	}
	if (city_key && !strcmp(role, "city")) {
		code = cli_error(EXIT_USAGE, "%s", _("a city store is its own root: --city-key is for the other roles"));
		goto done;
	}
	if (city_key && (error = tidu_trust_fingerprint_parse(city_key, fp)) < 0) {
		code = cli_fail(error);
		goto done;
	}
	if (remote) {
		/* A bad URL is refused before anything is created. */
		char *norm = NULL;

		error = tidu_remote_normalize(remote, &norm);
		free(norm);
		if (error < 0) {
			code = cli_fail(error);
			goto done;
		}
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
	id.district = district;
	id.officer = officer;
	id.role = role;
	/* Core checks the passphrase and the identity; a failure leaves nothing. */
	if ((error = tidu_home_create(&s, home.ptr, &id, pass.ptr, pass.len,
				      city_key ? fp : NULL, remote,
				      recovery, sizeof(recovery))) < 0) {
		code = cli_fail(error);
		goto done;
	}
	printf(_("Created the store in %s\n"), cli_safe(tidu_store_path(s)));
	printf(_("Device id: %s\n"), tidu_store_device(s));
	printf(_("District:  %s %s\n"), district, tidu_dict_district_name(district));
	printf(_("Officer:   %s (%s)\n"), cli_safe(officer), cli_safe(role));
	{
		tidu_trust_id me;

		if (tidu_trust_identity(s, &me) == 0)
			printf(_("Fingerprint: %s (read it to the city when you enroll)\n"),
			       me.fingerprint);
		if (city_key)
			printf(_("City key pinned: %s\n"), fp);
		if (remote) {
			char *shown = tidu_remote_redact(remote);

			printf(_("Central repository: %s (run 'tidu sync')\n"), cli_safe(shown));
			free(shown);
		}
	}
	printf("\n%s\n  %s\n%s\n",
	       _("Recovery key (shown only this once; write it down and keep it apart from this device):"),
	       recovery,
	       _("With it, 'tidu passwd --recovery-key' sets a new passphrase if this one is forgotten."));
	code = EXIT_OK;
done:
	sodium_memzero(recovery, sizeof(recovery));
	tidu_buf_wipe(&pass);
	tidu_buf_free(&home);
	tidu_store_free(s);
	free(args);
	return code;
}
