/*
 * floormilter.c - the floor for bench/milter.sh: the least a milter that
 * sees every recipient can cost. It negotiates away every stage but RCPT
 * and DATA, asks for no reply where it may, answers RCPT "continue" and
 * accepts the message at DATA.
 *
 *   floormilter inet:PORT@127.0.0.1 | unix:/path
 *
 * Runs in the foreground until SIGTERM (libmilter's orderly stop).
 */
#include <libmilter/mfapi.h>

#include <stdio.h>
#include <stdlib.h>

static sfsistat floor_negotiate(SMFICTX *ctx, unsigned long f0,
    unsigned long f1, unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long want = SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH |
	    SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
	    SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_UNKN;

	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = *pf2 = *pf3 = 0;
	*pf1 = f1 & want;
	return SMFIS_CONTINUE;
}

static sfsistat floor_noreply(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

static sfsistat floor_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return floor_noreply(ctx);
}

static sfsistat floor_argv(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return floor_noreply(ctx);
}

static sfsistat floor_rcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat floor_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat floor_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return floor_noreply(ctx);
}

static struct smfiDesc floor_desc = {
	.xxfi_name = "floormilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_connect = floor_connect,
	.xxfi_helo = floor_helo,
	.xxfi_envfrom = floor_argv,
	.xxfi_envrcpt = floor_rcpt,
	.xxfi_data = floor_data,
	.xxfi_negotiate = floor_negotiate,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: floormilter inet:PORT@127.0.0.1|unix:/path\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(floor_desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "floormilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
