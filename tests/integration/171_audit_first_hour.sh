#!/bin/bash
# rg-timeout: 600
# relayguard-audit's first hour (issue 19, the auditor's items), against
# hostile_smtpd servers on loopback that give every verdict:
# - -f json is ONE document (an array for several targets, an object for
#   one), valid against schemas/audit with Debian's python3-jsonschema, as
#   every -f jsonl line is; the validator itself refuses a broken result;
# - names without an address and --mx domains with dead DNS get a result
#   (verdict unreachable, "unresolved": true, exit 3), not only a warning;
# - an nmap-like summary line on stderr, not with -q or --nagios;
# - -T: every transcript line tagged [session:local port], one session's
#   dialogue after the other; JSON: session objects;
# - the verdict first in the text report;
# - -s checked before any connection: not an address, not ours: exit 64;
# - the progress line on a terminal: a warning gets its own line, the
#   last line is N/N.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/hostile.sh
source tests/lib/dns.sh

W=$(mktemp -d "${TMPDIR:-/tmp}/rg-firsthour.XXXXXX")
rg_cleanup_add "rm -rf '$W'"
VALIDATE=(/usr/bin/python3 tests/tools/validate_audit_json.py)
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
	tap_bail "python3-jsonschema is missing (make deps)"

# one server per verdict, and a port where nothing listens
declare -A SRV
for mode in normal-reject greylist japanese accept-all-nodata; do
	start_hostile "$mode"
	SRV[$mode]=127.0.0.1:$HPORT
done
DEAD=127.0.0.1:$(rg_free_port tcp)
ALL=("${SRV[normal-reject]}" "${SRV[greylist]}" "${SRV[japanese]}" "${SRV[accept-all-nodata]}" "$DEAD")
audit() { timeout 120 "$AUDIT" -d victim.example -t 5 --connect-timeout 2 --budget 60 "$@"; }

# A name lookup that never leaves loopback: a private resolv.conf naming
# 127.0.0.1 (nothing answers on port 53 there), in a mount namespace.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$W/resolv.conf"
noresolve() {
	unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$W/resolv.conf" "$@"
}

# --- -f json: one document, every verdict, valid against the schema -------
audit -T -f json "${ALL[@]}" >"$W/all.json" 2>"$W/all.err"; rc=$?
tap_is "$rc" 2 "five targets: exit 2 (the worst: open_relay)"
tap_check "-f json, several targets: ONE JSON document (json.load)" \
	/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/all.json"
tap_is "$(jq -r 'type' "$W/all.json" 2>/dev/null)" array "-f json, several targets: an array"
tap_is "$(jq -r '[.[].verdict] | join(" ")' "$W/all.json" 2>/dev/null)" \
	"closed inconclusive open_relay accept_all unreachable" "in list order, one verdict each"
"${VALIDATE[@]}" json "$W/all.json" >"$W/v.out" 2>&1; rc=$?
tap_is "$rc" 0 "schemas/audit/json.schema.json: the real -f json -T output is valid" ||
	tap_diag "$(cat "$W/v.out")"
one=$(audit -f json "${SRV[normal-reject]}" 2>/dev/null)
tap_is "$(jq -r 'type' <<<"$one")" object "-f json, one host target: one object"
audit -f jsonl "${ALL[@]}" >"$W/all.jsonl" 2>/dev/null
"${VALIDATE[@]}" jsonl "$W/all.jsonl" >"$W/vl.out" 2>&1; rc=$?
tap_is "$rc/$(grep -c '^ok ' "$W/vl.out")" 0/5 "schemas/audit/jsonl.schema.json: every -f jsonl line is valid" ||
	tap_diag "$(cat "$W/vl.out")"
tap_is "$(wc -l <"$W/all.jsonl")" 5 "-f jsonl still streams: one line per target"
tap_check "relayguard-report --before takes the -f json array (its first result)" \
	"$BUILD/relayguard-report" --before "$W/all.json" -o "$W/before.html"
# the validator is real: a result with a verdict it does not know fails
jq '.[0].verdict = "maybe"' "$W/all.json" >"$W/bad.json"
tap_isnt "$("${VALIDATE[@]}" json "$W/bad.json" >/dev/null 2>&1; echo $?)" 0 \
	"the schema refuses a result with an unknown verdict"
jq 'del(.[1].transcript_sessions[0].local_port)' "$W/all.json" >"$W/bad2.json"
tap_isnt "$("${VALIDATE[@]}" json "$W/bad2.json" >/dev/null 2>&1; echo $?)" 0 \
	"the schema refuses a transcript session without its local port"

# --- unresolved names and --mx with dead DNS: a result each ----------------
noresolve "$AUDIT" -d victim.example -t 5 -f json nosuch.invalid "${SRV[normal-reject]}" \
	>"$W/unres.json" 2>"$W/unres.err"; rc=$?
tap_is "$rc" 3 "a name without address: exit 3 (unreachable)"
tap_is "$(jq -r '.[0] | "\(.target) \(.verdict) \(.unresolved) \(.exit_code)"' "$W/unres.json" 2>/dev/null)" \
	"nosuch.invalid unreachable true 3" "a name without address is a result: unreachable, unresolved"
tap_is "$(jq -r '.[1].unresolved' "$W/unres.json" 2>/dev/null)" false "a reachable target is not unresolved"
"${VALIDATE[@]}" json "$W/unres.json" >"$W/vu.out" 2>&1
tap_is "$?" 0 "the unresolved result is valid against the schema" || tap_diag "$(cat "$W/vu.out")"
noresolve "$AUDIT" -d victim.example nosuch.invalid >"$W/unres.txt" 2>/dev/null
tap_like "$(head -3 "$W/unres.txt")" 'Verdict: UNREACHABLE' "text: the unresolved name has a report"
tap_like "$(cat "$W/unres.txt")" 'The name has no address: nothing was contacted' "text: says why"
dns_blackhole || tap_bail "cannot start the black-hole UDP port"
audit --mx one.test two.test --nameserver "$DNS_BLACKHOLE" --dns-timeout 0.5 --dns-retries 0 \
	-f json >"$W/mx.json" 2>"$W/mx.err"; rc=$?
tap_is "$rc" 3 "--mx with dead DNS: exit 3"
tap_is "$(jq -r '[.[] | "\(.target) \(.verdict) \(.unresolved)"] | join(",")' "$W/mx.json" 2>/dev/null)" \
	"one.test unreachable true,two.test unreachable true" "--mx with dead DNS: a result per domain"
tap_like "$(cat "$W/mx.err")" 'MX lookup failed' "--mx with dead DNS: the reason is still said"

# --- the summary line ------------------------------------------------------
tap_like "$(cat "$W/all.err")" \
	'relayguard-audit: 5 targets: 1 open_relay, 1 accept_all, 1 inconclusive, 1 closed, 1 unreachable in [0-9]+\.[0-9] s' \
	"an nmap-like summary line on stderr"
tap_like "$(cat "$W/unres.err")" '2 targets: .* 1 unreachable \(1 unresolved\) in' "the summary counts the unresolved"
err=$(audit -q "${SRV[normal-reject]}" 2>&1 >/dev/null)
tap_is "$err" "" "-q: no summary line (nothing on stderr)"
err=$(audit --nagios "${SRV[normal-reject]}" 2>&1 >/dev/null)
tap_unlike "$err" 'targets?:' "--nagios: no summary line"

# --- -T: sessions one after another, lines tagged --------------------------
audit -T --per-host 4 "${SRV[normal-reject]}" >"$W/t.txt" 2>/dev/null
tags=$(sed -n '/^Transcript/,$p' "$W/t.txt" | sed -n 's/^  \[\([0-9]*\):\([0-9]*\)\] .*/\1 \2/p')
tap_check "-T text: every transcript line tagged [session:local port]" \
	test "$(sed -n '/^Transcript/,$p' "$W/t.txt" | grep -c '^  20[0-9][0-9]-')" -eq 0 -a -n "$tags"
sessions=$(sed -n 's/.*(.* s, \([0-9]*\) sessions, .*/\1/p' "$W/t.txt")
seq=$(awk '$1 > 0 { print $1 }' <<<"$tags")
tap_is "$(uniq <<<"$seq" | wc -l)" "${sessions:-none}" \
	"-T text: each session's dialogue in one piece, not interleaved (${sessions:-?} sessions)"
tap_check "-T text: sessions in order" test -n "$seq" -a "$seq" = "$(sort -n <<<"$seq")"
nports=$(awk '$1 > 0 { print $2 }' <<<"$tags" | sort -u | wc -l)
tap_check "-T text: one local port per session ($nports ports, ${sessions:-?} sessions)" \
	test "$nports" -gt 1 -a "$nports" -eq "${sessions:-0}"
tap_like "$(cat "$W/t.txt")" $'\n  session 1 \\(local port [0-9]+\\):\n' "-T text: a heading per session"
tap_is "$(jq '.[0] | ([.transcript_sessions[] | select(.session > 0)] | length) == .sessions' "$W/all.json")" \
	true "-T JSON: one session object per session"
tap_is "$(jq '.[0] | [.transcript[] | has("session") and has("local_port")] | all' "$W/all.json")" \
	true "-T JSON: every transcript line names its session and local port"
tap_is "$(jq '.[0] | [.transcript_sessions[] | select(.session > 0) | .lines[] | .session] == [.transcript_sessions[] | select(.session > 0) | .session as $s | .lines[] | $s]' "$W/all.json")" \
	true "-T JSON: a session object holds only its own lines"

# --- the verdict first ----------------------------------------------------
txt=$(audit "${SRV[japanese]}" 2>/dev/null)
tap_like "$(sed -n 2p <<<"$txt")" '^Verdict: OPEN RELAY' "text: the verdict is the report's second line"
vline=$(grep -n '^Verdict:' <<<"$txt" | cut -d: -f1)
pline=$(grep -n 'MAIL FROM:.* -> RCPT TO:' <<<"$txt" | head -1 | cut -d: -f1)
tap_check "text: the verdict before the probes (line $vline < $pline)" test "${vline:-999}" -lt "${pline:-0}"

# --- -s checked up front --------------------------------------------------
for src in notanaddr 192.0.2.1; do
	out=$(audit -s "$src" "${SRV[normal-reject]}" 2>"$W/s.err"); rc=$?
	tap_is "$rc/${#out}" 64/0 "-s $src: usage error 64, no target audited"
done
tap_like "$(audit -s notanaddr "$DEAD" 2>&1)" 'not an IP address' "-s notanaddr: says why"
tap_like "$(audit -s 192.0.2.1 "$DEAD" 2>&1)" 'not an address of this machine' "-s 192.0.2.1: says why"
out=$(audit -s 127.0.0.2 -f json "${SRV[normal-reject]}" 2>/dev/null)
tap_is "$(jq -r .vantage <<<"$out")" 127.0.0.2 "-s 127.0.0.2 (ours): used"

# --- the progress line on a terminal ---------------------------------------
# target 1 keeps the run busy past a progress tick, then the list's bad line
# warns: the warning must start its own line, and the last line is N/N
start_hostile silent
printf '127.0.0.1:%s\nnot a target!\n%s\n' "$HPORT" "${SRV[normal-reject]}" >"$W/list"
script -qec "timeout 60 $AUDIT -d victim.example -t 3 --connect-timeout 2 --budget 4 -j 1 -iL $W/list >$W/p.out" \
	"$W/tty.log" >/dev/null 2>&1
tty=$(tr -d '\000' <"$W/tty.log")
tap_like "$tty" 'done, ' "a progress line on the terminal"
tap_like "$tty" $'(^|\n|\r\033\\[K)relayguard-audit: warning: .*not a target' \
	"a warning during the run stands on its own line"
tap_unlike "$tty" $'ETA [^\r\n]*relayguard-audit: warning' "no warning glued to the progress line"
last=$(tr '\r' '\n' <<<"$tty" | grep -a ' done, ' | tail -1 | sed 's/^\x1b\[K//')
tap_like "$last" '^([0-9]+)/\1 done' "the last progress line is N/N ($last)"
tap_done
