#!/bin/bash
# relayguard-audit --nagios: a monitoring plugin (Nagios, Icinga) - one
# status line "RELAY OK|WARNING|CRITICAL|UNKNOWN - ... | perfdata" and the
# plugin exit codes 0/1/2/3, against a real open Postfix, a closed server,
# an accept-all server, nothing listening, and a wrong command line.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/hostile.sh

pf_start open >/dev/null || tap_bail "cannot start Postfix (open)"
A=("$AUDIT" --nagios -s 127.0.0.2 -d victim.example -t 10)
perf='accepted=[0-9]+;;;0;[0-9]+ refused=[0-9]+;;;0;[0-9]+ untested=[0-9]+;;;0;[0-9]+ time=[0-9.]+s;;;0$'

out=$("${A[@]}" "127.0.0.1:$PF_PORT" 2>/dev/null); rc=$?
tap_like "$out" "^RELAY CRITICAL - open relay, [1-9][0-9]*/[0-9]+ probes accepted \| $perf" \
	"real open Postfix: CRITICAL, probes counted, perfdata"
tap_is "$rc" 2 "CRITICAL exits 2"
tap_is "$(wc -l <<<"$out")" 1 "one line on stdout"
n=$(sed -E 's/.*accepted=([0-9]+);;;0;([0-9]+).*/\1 \2/' <<<"$out")
tap_like "$out" "^RELAY CRITICAL - open relay, ${n% *}/${n#* } " \
	"the counts in the text and in the perfdata agree (${n% *} of ${n#* })"
pf_stop

start_hostile normal-reject
out=$("${A[@]}" "127.0.0.1:$HPORT" 2>/dev/null); rc=$?
tap_like "$out" "^RELAY OK - no relaying, 0/[0-9]+ probes accepted \| $perf" "closed server: OK"
tap_is "$rc" 0 "OK exits 0"
stop_hostile

start_hostile accept-all-nodata
out=$("${A[@]}" "127.0.0.1:$HPORT" 2>/dev/null); rc=$?
tap_like "$out" "^RELAY WARNING - " "accept-all server: WARNING (not called an open relay)"
tap_is "$rc" 1 "WARNING exits 1"
stop_hostile

out=$("${A[@]}" --connect-timeout 2 "127.0.0.1:$(rg_free_port tcp)" 2>/dev/null); rc=$?
tap_like "$out" "^RELAY UNKNOWN - unreachable \| time=" "nothing listening: UNKNOWN"
tap_is "$rc" 3 "UNKNOWN exits 3"

out=$("${A[@]}" --no-such-option 2>/dev/null); rc=$?
tap_is "$rc" 3 "a usage error under --nagios is UNKNOWN (3), not 64"
out=$("$AUDIT" -f nagios --no-such-option 2>/dev/null); rc=$?
tap_is "$rc" 3 "-f nagios: a usage error is UNKNOWN (3) as well"
out=$("$AUDIT" --no-such-option 2>/dev/null); rc=$?
tap_is "$rc" 64 "without --nagios the same error is EX_USAGE (64)"
tap_done
