#!/bin/bash
# rg-timeout: 240
# relayguard-audit on a backend shared by many targets (issue 21):
# - --max-sessions N caps the SMTP sessions open at once over all targets:
#   hostile_smtpd count-sessions serves 16 addresses 127.0.0.1..16 at one
#   port, a child per connection, and counts the connections whose client
#   has not closed yet. -j 16 --per-host 4 opens well over 3 at once without
#   the cap (the control); with --max-sessions 3 (and 1) never more, and the
#   verdicts stay the same;
# - a server that takes the TCP connection but never greets is busy, not
#   unreachable: retried with backoff, then inconclusive "connected, no
#   greeting within N s (busy?)"; a closed port stays unreachable.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

rg_built "$HOSTILE"
source tests/lib/hostile.sh	# start_logged: its log in $W/MODE.log
W=$(mktemp -d)
rg_cleanup_add "rm -rf $W"

NADDR=16
most() { grep -o 'most [0-9]*' "$W/count-sessions.log" | tail -1 | cut -d' ' -f2; }
# shared TAG ARGS...: the NADDR targets at once, jsonl; the peak in PEAK
shared() {
	local tag=$1 targets=() i
	shift
	export HOSTILE_ADDRS=$NADDR
	start_logged count-sessions
	for ((i = 1; i <= NADDR; i++)); do targets+=("127.0.0.$i:$HPORT"); done
	timeout 120 "$AUDIT" -d victim.example -t 10 --connect-timeout 5 --budget 100 \
		-j "$NADDR" --per-host 4 -f jsonl "$@" "${targets[@]}" >"$W/$tag.jsonl" 2>"$W/$tag.err"
	stop_hostile
	PEAK=$(most)
	tap_diag "$tag: at most ${PEAK:-?} sessions at once; verdicts: $(jq -r .verdict "$W/$tag.jsonl" | sort | uniq -c | xargs)"
}

# --- the cap ----------------------------------------------------------------
shared nocap --max-sessions 0
tap_check "no cap (control): the server saw more than 3 sessions at once ($PEAK)" \
	test "${PEAK:-0}" -gt 3
tap_is "$(jq -r .verdict "$W/nocap.jsonl" | grep -c '^closed$')" "$NADDR" \
	"no cap: all $NADDR targets closed"

for cap in 3 1; do
	shared "cap$cap" --max-sessions "$cap"
	tap_check "--max-sessions $cap: never more than $cap sessions at once over $NADDR targets ($PEAK)" \
		test "${PEAK:-99}" -le "$cap"
	tap_is "$(jq -r .verdict "$W/cap$cap.jsonl" | grep -c '^closed$')" "$NADDR" \
		"--max-sessions $cap: all $NADDR targets closed, as without the cap"
	tap_is "$(jq -r 'select(.tests | map(select(.outcome == "error")) | length > 0) | .host' \
		"$W/cap$cap.jsonl" | wc -l)" 0 "--max-sessions $cap: no probe lost waiting for a place"
done
unset HOSTILE_ADDRS

# --- connected, never greeted: busy, not unreachable --------------------------
start_logged silent
t0=$(rg_now_ms)
OUT=$(timeout 120 "$AUDIT" -p "$HPORT" -d victim.example -t 2 --connect-timeout 3 \
	--budget 100 -f json 127.0.0.1 2>"$W/silent.err")
secs=$((($(rg_now_ms) - t0) / 1000))
stop_hostile
tap_diag "silent: $(jq -r .verdict <<<"$OUT") in ${secs}s: $(jq -r .verdict_reason <<<"$OUT")"
tap_is "$(jq -r .verdict <<<"$OUT")" inconclusive \
	"silent server: inconclusive, not unreachable"
tap_like "$(jq -r .verdict_reason <<<"$OUT")" "connected, no greeting within 2 s \\(busy\\?\\)" \
	"silent server: the reason says it took the connection and never greeted"
tap_is "$(jq -r '.politeness.retries' <<<"$OUT")" 3 \
	"silent server: retried with backoff, 3 times, then no more"
tap_is "$(grep -c ': connection [0-9]* from' "$W/silent.log")" 4 \
	"silent server: 4 connections in all (bounded)"

# --budget ends the wait for the first greeting: still not unreachable
start_logged silent
OUT=$(timeout 60 "$AUDIT" -p "$HPORT" -d victim.example -t 10 --connect-timeout 3 \
	--budget 3 -f json 127.0.0.1 2>"$W/silent-budget.err")
stop_hostile
tap_diag "silent, --budget 3: $(jq -r .verdict <<<"$OUT"): $(jq -r .verdict_reason <<<"$OUT")"
tap_is "$(jq -r .verdict <<<"$OUT")" inconclusive \
	"silent server, --budget over before a greeting: inconclusive, not unreachable"

dead=$(rg_free_port tcp)
OUT=$(timeout 60 "$AUDIT" -p "$dead" -d victim.example -t 2 --connect-timeout 3 \
	-f json 127.0.0.1 2>"$W/dead.err")
tap_is "$(jq -r .verdict <<<"$OUT")" unreachable "closed port: still unreachable"
tap_like "$(jq -r .verdict_reason <<<"$OUT")" "refused" "closed port: the reason says refused"

tap_done
