/*
 * page.h - relayguard-report's HTML page (main.c): the parts that speak the
 * page's language (page.c) - times in the zone the header names, the
 * verdict's reason, the milter's events explained.
 */
#ifndef RELAYGUARD_REPORT_PAGE_H
#define RELAYGUARD_REPORT_PAGE_H

#include <jansson.h>
#include <stdio.h>

/* main.c: text through textclean's HTML rule; a string member or "" */
void html_escape(FILE *out, const char *s);
const char *jget(json_t *o, const char *key);

/* page.c */
/* iso in the zone the page names (len >= RG_TIME_ISO_LEN), else iso */
const char *page_time(const char *iso, char *buf, size_t len);
/* the reason of audit result a's verdict, in the page's language */
void page_verdict_reason(FILE *out, json_t *a);
/* "What the milter said": the events a reader needs, from the event log f */
void page_events(FILE *out, FILE *f);

#endif
