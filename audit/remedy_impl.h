/*
 * remedy_impl.h - what remedy.c (the logic) and remedy_rows.c (the data)
 * share and nobody else sees: a row per (MTA, hole class), and the
 * sentence saying what each hole class lets through.
 */
#ifndef RELAYGUARD_AUDIT_REMEDY_IMPL_H
#define RELAYGUARD_AUDIT_REMEDY_IMPL_H

#include "audit.h"

#include <stdbool.h>
#include <stddef.h>

#define PLAIN RG_CLASS_PLAIN
#define SENDER RG_CLASS_SENDER
#define ROUTING RG_CLASS_ROUTING
#define IDENTITY RG_CLASS_IDENTITY
#define AFTER_LOCAL RG_CLASS_AFTER_LOCAL

struct remedy_row {
	enum mta_kind mta;
	bool verified;
	struct remedy_step step;
};

extern const struct remedy_row remedy_rows[];
extern const size_t remedy_nrows;

/* "relays plain outside mail for this client ...", by hole class */
const char *found_text(int c);

#endif
