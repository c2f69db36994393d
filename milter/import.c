/*
 * import.c - relayguard-milter --import postfix[:CONFIG_DIR] |
 * sendmail[:ETC_MAIL_DIR]: print the relay settings the MTA already has as
 * relayguard.conf lines (LocalDomains, RelayDomains, TrustedNetworks) with
 * a comment per value saying where it came from; see mtaimport.h.
 */
#include "milter.h"
#include "milter/policy/mtaimport.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

int milter_import_main(int argc, char **argv)
{
	struct rg_import im = {0};
	char err[RG_IMPORT_ERRLEN], cmd[512];
	const char *spec = NULL;

	if (strncmp(argv[1], "--import=", 9) == 0 && argc == 2)
		spec = argv[1] + 9;
	else if (strcmp(argv[1], "--import") == 0 && argc == 3)
		spec = argv[2];
	if (spec == NULL || spec[0] == '\0') {
		fprintf(stderr, "usage: relayguard-milter --import "
		    "postfix[:CONFIG_DIR] | sendmail[:ETC_MAIL_DIR]\n");
		return EX_USAGE;
	}
	if (rg_import_run(spec, &im, err, sizeof(err)) != 0) {
		fprintf(stderr, "relayguard-milter: %s\n", err);
		rg_import_free(&im);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "relayguard-milter --import %s", spec);
	rg_import_write(stdout, &im, cmd);
	rg_import_free(&im);
	return fflush(stdout) == 0 ? 0 : 1;
}
