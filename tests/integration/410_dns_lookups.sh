#!/bin/bash
# lib/net/dns.c and lib/mail/spf.c against a real DNS server (NSD) on loopback serving
# tests/dns/*.zone, driven by build/tests/tools/dnsq: MX order, null and
# implicit MX, CNAME'd hosts, PTR/FCrDNS, DNSBL codes and reasons, the TTL
# cache, SPF results (pass, fail, softfail, neutral, none, include chains,
# permerror for too many lookups, syntax and hostile macros), Received-SPF,
# and the timeout paths against a UDP port that never answers. Nothing here
# queries a nameserver outside 127.0.0.1.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
DNSQ=$BUILD/tests/tools/dnsq
source tests/lib/dns.sh

[ -x "$DNSQ" ] || tap_bail "$DNSQ missing (make)"
dns_start tests/dns/*.zone || tap_bail "cannot start NSD on loopback"
dns_blackhole || tap_bail "cannot start the black-hole UDP port"
Q() { "$DNSQ" -n "$DNS_NS" "$@" 2>&1 | grep -v '^elapsed_ms='; }
ms() { sed -n 's/^elapsed_ms=\([0-9]*\).*/\1/p' | tail -n 1; }

# --- MX -------------------------------------------------------------------
tap_is "$(Q mx relay.test)" "status=ok
10 mx1.relay.test
20 mx2.relay.test" "MX sorted by preference (published in the other order)"
tap_is "$(Q mx chain.relay.test)" "status=ok
5 alias.relay.test
10 a.relay.test
10 b.relay.test" "MX ties ordered by name"
tap_is "$(Q mx nullmx.relay.test)" "status=ok null_mx" "null MX (RFC 7505) detected, no hosts"
tap_is "$(Q mx implicit.relay.test)" "status=ok implicit
0 implicit.relay.test" "no MX but an A record: implicit MX"
tap_is "$(Q mx nx.relay.test)" "status=nxdomain" "MX of a missing domain: nxdomain"
tap_is "$(Q addrs alias.relay.test)" "status=ok
127.0.0.1" "a CNAME'd MX host resolves through the CNAME"
tap_is "$(Q addrs b.relay.test)" "status=ok
192.0.2.11
2001:db8::11" "A and AAAA together"
tap_is "$(Q addrs nothere.relay.test)" "status=nxdomain" "dangling MX host: nxdomain"

# --- PTR / FCrDNS -----------------------------------------------------------
tap_is "$(Q ptr 127.0.0.1)" "status=ok
mx1.relay.test" "PTR of 127.0.0.1"
tap_is "$(Q fcrdns 127.0.0.1)" "pass mx1.relay.test" "FCrDNS pass: the PTR name points back"
tap_is "$(Q fcrdns 127.0.0.3)" "fail a.relay.test" "FCrDNS fail: the PTR name has another address"
tap_is "$(Q fcrdns 127.0.0.5)" "none -" "FCrDNS none: no PTR"

# --- TXT and DNSBL ------------------------------------------------------------
tap_is "$(Q txt txt.relay.test)" "status=ok
first part second part" "TXT strings concatenated"
tap_is "$(Q dnsbl 127.0.0.2 bl.test)" "status=ok listed codes=127.0.0.2 reason=test entry (RFC 5782)" \
	"DNSBL test point 127.0.0.2 listed with its TXT reason"
tap_is "$(Q dnsbl 127.0.0.1 bl.test)" \
	"status=ok listed codes=127.0.0.2 127.0.0.4 reason=listed: open relay seen by bl.test" \
	"DNSBL: several return codes"
tap_is "$(Q dnsbl 127.0.0.9 bl.test)" "status=nxdomain not_listed codes= reason=" "DNSBL: not listed"
tap_is "$(Q dnsbl 127.0.0.3 bl.test)" "status=ok not_listed codes= reason=" \
	"DNSBL: an answer outside 127/8 is not a listing"
tap_is "$(Q dnsbl ::1 bl.test)" "status=ok listed codes=127.0.0.2 reason=" "DNSBL: IPv6 nibble query"

# --- cache ----------------------------------------------------------------------
out=$("$DNSQ" -n "$DNS_NS" -s -c 3 a mx1.relay.test)
tap_like "$out" 'stats queries=3 cache_hits=2 ' "three lookups, two from the cache"
tap_like "$(grep -c cached <<<"$out")" '^2$' "cached answers are marked and carry the remaining TTL"
tap_like "$(grep 'ttl=' <<<"$out" | head -n 1)" 'ttl=300$' "the TTL comes from the zone"

# --- SPF ---------------------------------------------------------------------------
spf() { Q spf "$1" helo.test "$2" | sed -n 's/^result=//p'; }
tap_is "$(spf 192.0.2.1 user@pass.spf.test)" pass "SPF pass (ip4)"
tap_is "$(spf 2001:db8::5 user@pass.spf.test)" pass "SPF pass (ip6)"
tap_is "$(spf 198.51.100.7 user@pass.spf.test)" fail "SPF fail (-all)"
tap_is "$(spf 198.51.100.7 user@softfail.spf.test)" softfail "SPF softfail (~all)"
tap_is "$(spf 198.51.100.7 user@neutral.spf.test)" neutral "SPF neutral (?all)"
tap_is "$(spf 198.51.100.7 user@none.spf.test)" none "SPF none: TXT without v=spf1"
tap_is "$(spf 198.51.100.7 user@nx.spf.test)" none "SPF none: the domain does not exist"
tap_is "$(spf 198.51.100.7 user@inc.spf.test)" pass "SPF pass through a two-level include chain"
tap_is "$(spf 192.0.2.1 user@inc.spf.test)" fail "SPF fail after the include chain"
tap_is "$(spf 192.0.2.1 user@split.spf.test)" pass "SPF record in two TXT strings"
tap_is "$(spf 192.0.2.20 user@amx.spf.test)" pass "SPF a: mechanism"
tap_is "$(spf 192.0.2.21 user@amx.spf.test)" pass "SPF mx mechanism"
tap_is "$(spf 192.0.2.1 user@toomany.spf.test)" permerror "SPF permerror: more than 10 DNS lookups"
tap_is "$(spf 192.0.2.1 user@bad.spf.test)" permerror "SPF permerror: syntax (/33)"
tap_is "$(spf 192.0.2.1 user@twice.spf.test)" permerror "SPF permerror: two records"
tap_is "$(spf 192.0.2.1 user@inconone.spf.test)" permerror "SPF permerror: include of a domain without SPF"
out=$(Q spf 192.0.2.1 helo.test user@evil.spf.test)
tap_like "$out" 'result=permerror' "hostile macro: permerror"
tap_like "$out" 'unsafe=1' "hostile macro: refused before libspf2 saw it"
tap_like "$out" 'warning: spf: TXT record of evil.spf.test refused as unsafe' "hostile macro: logged"
tap_is "$(spf 127.0.0.1 postmaster@relay.test)" pass "loopback gets no free pass: mx authorises 127.0.0.1"
tap_is "$(spf 127.0.0.1 postmaster@strict.relay.test)" fail \
	"loopback gets no free pass: a record without it fails"
out=$(Q spf 192.0.2.1 pass.spf.test '<>')
tap_like "$out" $'result=pass' "null sender: postmaster@HELO is checked"
tap_like "$out" 'identity=helo;' "null sender: identity=helo"
rs=$(Q spf 192.0.2.1 helo.test user@pass.spf.test | sed -n 's/^received_spf=//p')
tap_is "$rs" 'pass (receiver.test: domain of user@pass.spf.test designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from="user@pass.spf.test"; helo=helo.test; receiver=receiver.test; identity=mailfrom;' \
	"Received-SPF value in RFC 7208 9.1 form"
tap_like "$(Q spf 198.51.100.7 helo.test user@pass.spf.test)" \
	'explanation=198.51.100.7 is not authorised by the SPF record of pass.spf.test' "fail explanation"

# --- latency on loopback -------------------------------------------------------------
t=$("$DNSQ" -n "$DNS_NS" mx relay.test | ms)
tap_like "$t" '^[0-9]{1,2}$' "an uncached MX lookup on loopback takes < 100 ms (${t} ms)"
t=$("$DNSQ" -n "$DNS_NS" spf 198.51.100.7 helo.test user@inc.spf.test | ms)
tap_like "$t" '^[0-9]{1,2}$' "an SPF check through 3 records takes < 100 ms (${t} ms)"

# --- dead DNS server -------------------------------------------------------------------
B() { "$DNSQ" -n "$DNS_BLACKHOLE" -t 0.5 -r 1 "$@" 2>&1; }
out=$(B -s mx relay.test)
tap_like "$out" 'status=timeout' "black hole: MX lookup times out"
t=$(ms <<<"$out")
tap_like "$t" '^(9[5-9][0-9]|1[01][0-9][0-9])$' "black hole: 2 tries x 0.5 s = about 1 s (${t} ms)"
tap_like "$out" 'warning: dns: no reply from 127.0.0.1:[0-9]+ .*skipped for 5 s' "black hole: degradation logged"
out=$(B -s -c 3 a relay.test)
tap_like "$out" 'held_down=2' "black hole: later lookups fail at once during the hold-down"
tap_is "$(grep -c 'warning: dns: no reply' <<<"$out")" 1 "black hole: logged once, not per lookup"
out=$(B spf 192.0.2.1 helo.test user@pass.spf.test)
tap_like "$out" 'result=temperror' "black hole: SPF temperror (RFC 7208 4.4), not permerror"
t=$(ms <<<"$out")
tap_like "$t" '^([0-9]{1,3}|1[01][0-9][0-9])$' "black hole: SPF gives up within about 1 s (${t} ms)"
out=$("$DNSQ" -n "$DNS_BLACKHOLE" -t 2 -r 3 -D 0.4 -s mx relay.test 2>&1)
t=$(ms <<<"$out")
tap_like "$t" '^(3[5-9][0-9]|4[0-5][0-9])$' "a per-thread deadline (0.4 s) caps timeout x retries (${t} ms)"
out=$("$DNSQ" -n "$DNS_BLACKHOLE,$DNS_NS" -t 0.3 -r 0 -s mx relay.test 2>&1)
tap_like "$out" $'status=ok\n10 mx1.relay.test' "dead first nameserver: the second one answers"
t=$(ms <<<"$out")
tap_like "$t" '^(2[89][0-9]|3[0-9][0-9])$' "dead first nameserver costs one timeout (${t} ms)"
tap_done
