/*
 * fingerprint.c - which MTA is this. The fingerprint reads the banner and
 * the EHLO reply (its greeting line and keywords): identification is the one
 * place where text is all there is. One table row per signature, checked in
 * order; what to change is in remedy.c.
 */
#include "audit.h"
#include "lib/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

enum fp_where { FP_BANNER = 1, FP_EHLO = 2, FP_ANY = 3 };

enum mta_kind mta_fingerprint(const char *banner, const char *ehlo_text)
{
	/* Real strings: Postfix "ESMTP Postfix (Debian/GNU)"; sendmail "ESMTP
	 * Sendmail 8.17.1.9/8.17.1.9;" and EHLO keyword DELIVERBY; "ESMTP Exim 4.96"; "ESMTP OpenSMTPD"; Exchange "Microsoft ESMTP
	 * MAIL Service ready at ..." and EHLO keywords X-EXPS, XEXCH50,
	 * X-ANONYMOUSTLS; qmail toasters "Welcome to Qmail Toaster", netqmail
	 * forks "ESMTP netqmail"; Haraka "ESMTP Haraka/3.0.3 ready" and EHLO
	 * "Haraka is at your service"; Courier EHLO keywords XVERP=Courier,
	 * XCOURIEROUTPUT... and banner "Courier-MTA"; MDaemon "ESMTP MDaemon
	 * 23.5.2;". */
	static const struct {
		const char *needle;
		unsigned where;
		enum mta_kind kind;
	} table[] = {
		{"Postfix", FP_ANY, MTA_POSTFIX},
		{"Sendmail", FP_ANY, MTA_SENDMAIL},
		{"Exim", FP_ANY, MTA_EXIM},
		{"OpenSMTPD", FP_ANY, MTA_OPENSMTPD},
		{"Microsoft ESMTP MAIL Service", FP_ANY, MTA_EXCHANGE},
		{"Microsoft Exchange", FP_ANY, MTA_EXCHANGE},
		{"X-EXPS", FP_EHLO, MTA_EXCHANGE},
		{"XEXCH50", FP_EHLO, MTA_EXCHANGE},
		{"X-ANONYMOUSTLS", FP_EHLO, MTA_EXCHANGE},
		{"MDaemon", FP_ANY, MTA_MDAEMON},
		{"Haraka", FP_ANY, MTA_HARAKA},
		{"Courier", FP_ANY, MTA_COURIER},
		{"XVERP=Courier", FP_EHLO, MTA_COURIER},
		{"qmail", FP_ANY, MTA_QMAIL},
		/* weak signals last: EHLO keywords only sendmail offers (RFC
		 * 2852 DELIVERBY; OpenSMTPD also says "pleased to meet you") */
		{"DELIVERBY", FP_EHLO, MTA_SENDMAIL},
	};

	/* the banner first (what the server says it is), then the EHLO reply */
	for (size_t i = 0; i < RG_NELEM(table); i++)
		if ((table[i].where & FP_BANNER) && has(banner, table[i].needle))
			return table[i].kind;
	for (size_t i = 0; i < RG_NELEM(table); i++)
		if ((table[i].where & FP_EHLO) && has(ehlo_text, table[i].needle))
			return table[i].kind;
	return MTA_UNKNOWN;
}

const char *mta_name(enum mta_kind m)
{
	static const char *const n[] = {"unknown", "Postfix", "sendmail", "Exim",
	    "OpenSMTPD", "Microsoft Exchange", "qmail", "Haraka", "Courier", "MDaemon"};

	return (size_t)m < RG_NELEM(n) ? n[m] : "unknown";
}
