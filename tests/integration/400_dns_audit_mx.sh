#!/bin/bash
# relayguard-audit --mx against a real Postfix and a real DNS server (NSD),
# both on loopback: relay.test has MX 10 mx1 (127.0.0.1, the open Postfix)
# and MX 20 mx2 (127.0.0.3, nothing listens). The report shows every MX, the
# PTR/FCrDNS facts, the DNSBL listing, and the SPF authorisation that turns
# the open relay into a critical finding. Only 127.0.0.1 is ever queried.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/dns.sh

dns_start tests/dns/*.zone || tap_bail "cannot start NSD on loopback"
dns_blackhole || tap_bail "cannot start the black-hole UDP port"
pf_start open || tap_bail "cannot start Postfix (open)"

audit() { "$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 10 --connect-timeout 2 "$@"; }

# -f json with --mx is one array; its objects one a line, in MX order
out=$(audit --mx relay.test --nameserver "$DNS_NS" --dnsbl bl.test -f json); rc=$?
out=$(jq -c '.[]' <<<"$out")
tap_is "$rc" 2 "--mx relay.test: exit 2 (an MX is an open relay)"
tap_is "$(jq -s length <<<"$out")" 2 "every MX host address is audited (2 reports)"
tap_is "$(jq -r -s '[.[] | "\(.mx.preference) \(.mx.host) \(.target)"] | join(",")' <<<"$out")" \
	"10 mx1.relay.test 127.0.0.1,20 mx2.relay.test 127.0.0.3" "in MX preference order, with host and address"
one=$(jq -c 'select(.target=="127.0.0.1")' <<<"$out")
two=$(jq -c 'select(.target=="127.0.0.3")' <<<"$out")
tap_is "$(jq -r .verdict <<<"$one")" open_relay "MX 10 (Postfix, open profile): open_relay"
tap_is "$(jq -r .verdict <<<"$two")" unreachable "MX 20 (nothing listens): unreachable"
tap_is "$(jq -r .mx.domain <<<"$one")" relay.test "report names the mail domain"
tap_is "$(jq -r '"\(.ptr) \(.fcrdns)"' <<<"$one")" "mx1.relay.test pass" "PTR and FCrDNS pass"
tap_is "$(jq -r '"\(.ptr) \(.fcrdns)"' <<<"$two")" "a.relay.test fail" "PTR and FCrDNS fail"
tap_is "$(jq -r '.dnsbl[0] | "\(.zone) \(.listed) \(.codes)"' <<<"$one")" "bl.test true 127.0.0.2 127.0.0.4" \
	"DNSBL listing with its codes"
tap_is "$(jq -r '.dnsbl[0].reason' <<<"$one")" "listed: open relay seen by bl.test" "DNSBL reason (TXT)"
tap_is "$(jq -r '.dnsbl[0].listed' <<<"$two")" false "the other MX is not listed"
tap_is "$(jq -r '.spf | "\(.domain) \(.result)"' <<<"$one")" "relay.test pass" \
	"SPF: the relay's address is authorised by relay.test (v=spf1 mx -all)"
tap_like "$(jq -r .spf.received_spf <<<"$one")" '^pass \(.*\) client-ip=127\.0\.0\.1; envelope-from="postmaster@relay\.test";' \
	"SPF: Received-SPF value"
tap_is "$(jq -r .severity <<<"$one")" critical "open relay inside the domain's SPF: severity critical"
tap_is "$(jq -r .spf.authorised_open_relay <<<"$one")" true "JSON flags the authorised open relay"
tap_like "$(jq -r .verdict_reason <<<"$one")" 'authorised by the SPF record of relay\.test' \
	"the verdict reason explains the SPF risk"
tap_is "$(jq -r .severity <<<"$two")" unknown "unreachable MX: severity unknown"

txt=$(audit --mx relay.test --nameserver "$DNS_NS" --dnsbl bl.test)
tap_like "$txt" 'MX:       relay\.test MX 10 mx1\.relay\.test' "text: MX line"
tap_like "$txt" 'PTR:      mx1\.relay\.test \(FCrDNS pass\)' "text: PTR line"
tap_like "$txt" 'DNSBL:    bl\.test: LISTED 127\.0\.0\.2 127\.0\.0\.4 "listed: open relay seen by bl\.test"' "text: DNSBL line"
tap_like "$txt" 'SPF:      relay\.test for 127\.0\.0\.1: pass' "text: SPF line"
tap_like "$txt" 'Severity: critical' "text: severity"

# A domain whose SPF does not cover the relay: open, but only "high".
out=$(audit --mx strict.relay.test --nameserver "$DNS_NS" -f json); rc=$?
out=$(jq -c '.[]' <<<"$out")
tap_is "$rc" 2 "--mx strict.relay.test: exit 2"
tap_is "$(jq -r '"\(.spf.result) \(.severity)"' <<<"$out")" "fail high" \
	"relay outside the domain's SPF: spf fail, severity high"
# Implicit MX (no MX record, RFC 5321 5.1)
out=$(audit --mx implicit.relay.test --nameserver "$DNS_NS" -f json | jq -c '.[]')
tap_is "$(jq -r '"\(.mx.implicit) \(.target) \(.verdict)"' <<<"$out")" "true 127.0.0.1 open_relay" \
	"no MX: the domain's own address is audited (implicit MX)"
# Null MX (RFC 7505)
err=$(audit --mx nullmx.relay.test --nameserver "$DNS_NS" -f json 2>&1 >/dev/null); rc=$?
tap_is "$rc" 0 "null MX: nothing to audit, exit 0"
tap_like "$err" 'null MX \(RFC 7505\)' "null MX: said so"
err=$(audit --mx nx.relay.test --nameserver "$DNS_NS" 2>&1 >/dev/null); rc=$?
tap_is "$rc" 3 "missing domain: exit 3"
tap_like "$err" 'MX lookup failed: nxdomain' "missing domain: clear message"
# Without --mx: --dnsbl/--spf-domain on a plain target
out=$(audit --nameserver "$DNS_NS" --dnsbl bl.test --spf-domain strict.relay.test -f json 127.0.0.1)
tap_is "$(jq -r '"\(.mx) \(.ptr) \(.dnsbl[0].listed) \(.spf.domain) \(.spf.result)"' <<<"$out")" \
	"null mx1.relay.test true strict.relay.test fail" "plain target: DNS facts without --mx"
# No DNS option: no DNS facts, no resolv.conf, report unchanged
out=$(audit -f json 127.0.0.1)
tap_is "$(jq -r 'has("ptr"), has("spf")' <<<"$out" | tr '\n' ' ')" "false false " \
	"without DNS options the auditor sends no DNS query"
# Dead DNS server: the audit still runs, the DNS facts degrade, time stays bounded.
t0=$(rg_now_ms)
out=$(audit --nameserver "$DNS_BLACKHOLE" --dns-timeout 0.5 --dns-retries 0 --dnsbl bl.test \
	--spf-domain relay.test -f json 127.0.0.1 2>/dev/null); rc=$?
t=$(($(rg_now_ms) - t0))
tap_is "$rc" 2 "dead DNS server: the relay verdict still comes (exit 2)"
tap_is "$(jq -r '"\(.fcrdns) \(.dnsbl[0].status) \(.spf.result)"' <<<"$out")" "temperror timeout temperror" \
	"dead DNS server: every DNS fact says temperror/timeout"
tap_like "$t" '^[0-9]{1,4}$' "dead DNS server: the audit ends within 10 s (${t} ms)"
err=$(audit --mx relay.test --nameserver 'ns.example' 2>&1); rc=$?
tap_is "$rc" 3 "--nameserver with a name: usage error"
tap_like "$err" 'not an IP address' "--nameserver: clear message"
# two domains sharing an MX host (relay.test and strict.relay.test: mx1),
# the domains also read from a list: the shared address is audited once
printf 'relay.test\nstrict.relay.test\n' >"$PF_DIR/domains"
out=$(audit --mx --nameserver "$DNS_NS" -f jsonl -iL "$PF_DIR/domains" 2>/dev/null)
tap_is "$(jq -r 'select(.address == "127.0.0.1") | .address' <<<"$out" | wc -l)" 1 \
	"--mx -iL: an MX address two domains share is audited once"
tap_done
