#!/bin/bash
# relayguard-audit and TLS on a real Postfix: STARTTLS used when offered,
# demanded TLS graded tls_required (never mistaken for "closed"), implicit
# TLS on a wrapper-mode (465-style) port.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

certdir=$(mktemp -d "${TMPDIR:-/tmp}/rg-tls.XXXXXX")
rg_cleanup_add "rm -rf '$certdir'"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mail.site.example" \
	-keyout "$certdir/key.pem" -out "$certdir/cert.pem" >/dev/null 2>&1 ||
	tap_bail "openssl could not make a test certificate"
chmod 644 "$certdir/key.pem"

audit() { "$AUDIT" -s 127.0.0.2 -d victim.example -t 10 -f json "$@"; }

PF_MAIN_EXTRA="smtpd_tls_cert_file = $certdir/cert.pem
smtpd_tls_key_file = $certdir/key.pem
smtpd_tls_security_level = may" pf_start open || tap_bail "cannot start Postfix (TLS may)"
out=$(audit -p "$PF_PORT" 127.0.0.1); rc=$?
tap_is "$rc" 2 "STARTTLS offered: audit runs over TLS and finds the open relay"
tap_is "$(jq -r .starttls_offered <<<"$out")" true "STARTTLS seen in EHLO"
tap_like "$(jq -r .tls <<<"$out")" '^TLSv1\.[23] .*CN ?= ?mail\.site\.example' "TLS version and certificate recorded"
out=$(audit -p "$PF_PORT" --starttls never 127.0.0.1)
tap_is "$(jq -r .tls <<<"$out")" null "--starttls never stays in clear text"

# Implicit TLS (smtps, wrapper mode) on a second port.
sp=$(rg_free_port tcp)
postconf -c "$PF_CONF" -M "127.0.0.1:$sp/inet=127.0.0.1:$sp inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"
pf_reload
rg_wait_port 127.0.0.1 "$sp" 5
out=$(audit --tls -p "$sp" 127.0.0.1); rc=$?
tap_is "$rc" 2 "--tls: implicit TLS session audited (open_relay)"
tap_like "$(jq -r .tls <<<"$out")" '^TLSv1' "--tls: TLS recorded"
out=$(audit -p "$sp" --starttls never -t 2 127.0.0.1); rc=$?
tap_is "$rc" 1 "clear text against a TLS-only port: inconclusive (connected, never greeted), not closed"
tap_like "$(jq -r .verdict_reason <<<"$out")" '^connected, no greeting' \
	"clear text against a TLS-only port: the reason says no greeting came"
pf_stop

# TLS demanded by the server: untested probes, not a false "closed".
PF_MAIN_EXTRA="smtpd_tls_cert_file = $certdir/cert.pem
smtpd_tls_key_file = $certdir/key.pem
smtpd_tls_security_level = encrypt" pf_start closed || tap_bail "cannot start Postfix (TLS encrypt)"
out=$(audit -p "$PF_PORT" --starttls never 127.0.0.1); rc=$?
tap_is "$(jq -r '.tests[] | select(.id=="A1") | .outcome' <<<"$out")" tls_required \
	"530 5.7.0 after STARTTLS was offered: tls_required"
tap_is "$(jq -r .verdict <<<"$out")" inconclusive "TLS demanded and refused by us: inconclusive"
tap_is "$rc" 1 "inconclusive: exit 1"
tap_like "$(jq -r .verdict_reason <<<"$out")" 'starttls always' "the report says how to test further"
out=$(audit -p "$PF_PORT" --starttls always 127.0.0.1); rc=$?
tap_is "$(jq -r .verdict <<<"$out")" closed "--starttls always: tested over TLS, closed"
tap_is "$rc" 0 "closed: exit 0"
pf_stop
tap_done
