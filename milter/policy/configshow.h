/*
 * configshow.h - relayguard.conf as relayguard-milter -n and -d print it,
 * the way postconf -n and postconf -d print main.cf: one "Key value" line
 * per key, in the order of rg_config_schema[] (config.h), in the file's
 * own syntax, so that the output is itself a valid relayguard.conf.
 *
 *   rg_config_show_set(c, out)   -n: every key the file sets (also one set
 *                                to its default value, as postconf -n
 *                                does), its value as written; the lines of
 *                                a repeated list key joined with ", "
 *   rg_config_show_defaults(out) -d: every key's built-in default; a key
 *                                without one as a comment "# Key (unset)"
 *
 * A key flagged RG_CONF_SECRET never shows its value: rg_config_mask()
 * replaces it whole, or, in a URL with "user:password@", the password and
 * any query ("redis://rg:********@127.0.0.1:6379"). Both return 0, or -1
 * when out has a write error.
 */
#ifndef RELAYGUARD_CONFIGSHOW_H
#define RELAYGUARD_CONFIGSHOW_H

#include "config.h"

#include <stdio.h>

#define RG_CONFIG_MASK	"********"

int rg_config_show_set(const struct rg_config *c, FILE *out);
int rg_config_show_defaults(FILE *out);

/* value of key k as it may be shown: itself, or masked when k is secret. */
const char *rg_config_shown(const struct rg_conf_key *k, const char *value,
    char *buf, size_t len);
/* value with its secret masked (see above) into buf. */
const char *rg_config_mask(const char *value, char *buf, size_t len);

#endif
