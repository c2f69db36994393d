#!/bin/bash
# relayguard-audit --baseline (issue 12): a re-audit compares with an earlier
# run per target. An open Postfix is audited, fixed (mynetworks narrowed),
# audited again against the first run: "fixed at T". A Japanese-speaking open
# relay stays open ("still open since" the first run, carried over a chain
# of runs, also through IntelMQ-named output), a closed server goes away
# ("newly unreachable"), a target not in the baseline is "new". JSON lines
# and text.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-reaudit.XXXXXX")
rg_cleanup_add "rm -rf '$TMP'"
start_hostile() {	# MODE VAR: start on a free port, port in VAR, pid in VAR_PID
	local line port
	port=$(rg_free_port tcp)
	"$HOSTILE" "$1" "$port" 120 > "$TMP/$2.ready" 2>/dev/null &
	eval "$2=$port; ${2}_PID=$!"
	rg_cleanup_add "rg_kill_pid $!"
	rg_retry 5 grep -q ready "$TMP/$2.ready" || tap_bail "hostile_smtpd $1 did not start"
}

pf_start open || tap_bail "cannot start Postfix (open)"
start_hostile japanese JP
start_hostile normal-reject NR
audit() { timeout 120 "$AUDIT" -s 127.0.0.2 -d victim.example -t 10 --budget 60 "$@"; }
T_PF=127.0.0.1:$PF_PORT T_JP=127.0.0.1:$JP T_NR=127.0.0.1:$NR

audit -f jsonl "$T_PF" "$T_JP" "$T_NR" > "$TMP/run1.jsonl"
v() { jq -r --argjson p "$2" 'select(.port==$p) | .verdict' "$1"; }
tap_is "$(v "$TMP/run1.jsonl" "$PF_PORT")" open_relay "run 1: Postfix is an open relay"
tap_is "$(v "$TMP/run1.jsonl" "$JP")" open_relay "run 1: the Japanese server is an open relay"
tap_is "$(v "$TMP/run1.jsonl" "$NR")" closed "run 1: the third server is closed"
start1_pf=$(jq -r --argjson p "$PF_PORT" 'select(.port==$p) | .start' "$TMP/run1.jsonl")
start1_jp=$(jq -r --argjson p "$JP" 'select(.port==$p) | .start' "$TMP/run1.jsonl")
re() { sed 's/[.+]/\\&/g' <<<"$1"; }	# a time as a regex

# the fix between the runs; the closed server goes away
pf_postconf "mynetworks = 127.0.0.1/32" > /dev/null || tap_bail "postconf failed"
rg_kill_pid "$NR_PID"
NEWPORT=$(rg_free_port tcp)

audit -f jsonl --baseline "$TMP/run1.jsonl" "$T_PF" "$T_JP" "$T_NR" "127.0.0.1:$NEWPORT" > "$TMP/run2.jsonl"
b() { jq -c --argjson p "$2" 'select(.port==$p) | .baseline' "$1"; }
tap_is "$(v "$TMP/run2.jsonl" "$PF_PORT")" closed "run 2: Postfix is closed after the fix"
tap_is "$(b "$TMP/run2.jsonl" "$PF_PORT" | jq -r .change)" fixed "run 2 vs run 1: Postfix fixed"
start2_pf=$(jq -r --argjson p "$PF_PORT" 'select(.port==$p) | .start' "$TMP/run2.jsonl")
tap_is "$(b "$TMP/run2.jsonl" "$PF_PORT" | jq -r .fixed_at)" "$start2_pf" "fixed at the start of the re-audit ($start2_pf)"
tap_is "$(b "$TMP/run2.jsonl" "$PF_PORT" | jq -r '[.previous_verdict, .previous_start] | join(" ")')" \
	"open_relay $start1_pf" "with the earlier verdict and time"
tap_is "$(b "$TMP/run2.jsonl" "$JP" | jq -r '[.change, .open_since] | join(" ")')" "still_open $start1_jp" \
	"the Japanese server: still open since run 1"
tap_is "$(b "$TMP/run2.jsonl" "$NR" | jq -r '[.change, .previous_verdict] | join(" ")')" "newly_unreachable closed" \
	"the stopped server: newly unreachable (was closed)"
tap_is "$(b "$TMP/run2.jsonl" "$NEWPORT" | jq -r .change)" new "a target not in the baseline: new"

# a third run against the second, in IntelMQ field names: open_since is carried over
audit -f jsonl --fields intelmq --baseline "$TMP/run2.jsonl" "$T_JP" > "$TMP/run3.jsonl"
tap_is "$(jq -r '."extra.baseline" | [.change, .open_since] | join(" ")' "$TMP/run3.jsonl")" "still_open $start1_jp" \
	"run 3 (IntelMQ names): still open since run 1, carried over run 2"
tap_check "run 3 conforms to IntelMQ's harmonization" python3 tests/intelmq/check_harmonization.py "$TMP/run3.jsonl"
audit -f jsonl --baseline "$TMP/run3.jsonl" "$T_JP" > "$TMP/run4.jsonl"
tap_is "$(jq -r '.baseline | [.change, .open_since] | join(" ")' "$TMP/run4.jsonl")" "still_open $start1_jp" \
	"an IntelMQ-named run serves as a baseline too"

# text
txt=$(audit --baseline "$TMP/run1.jsonl" "$T_PF" "$T_JP")
tap_like "$txt" "Baseline: FIXED at [0-9T:.+-]+ \\(open relay at $(re "$start1_pf")\\)" "text: FIXED at T"
tap_like "$txt" "Baseline: STILL OPEN since $(re "$start1_jp")" "text: STILL OPEN since T"
tap_like "$txt" 'Compared with .*run1\.jsonl \(3 earlier results\): 0 newly open, 1 still open, 1 fixed' \
	"text: a summary line"
tap_like "$(audit --lang ja --baseline "$TMP/run1.jsonl" "$T_PF")" '修正済み' "the summary in Japanese"

# bad input
echo 'not json' > "$TMP/bad.jsonl"
out=$(audit -f jsonl --baseline "$TMP/bad.jsonl" "$T_JP" 2>&1)
tap_like "$out" 'bad\.jsonl:1: not a relayguard-audit result, ignored' "a bad baseline line is named and ignored"
"$AUDIT" --baseline "$TMP/nonexistent.jsonl" "$T_JP" > /dev/null 2> "$TMP/err"
tap_is "$?" 3 "a missing baseline is a usage error (exit 3)"
tap_like "$(cat "$TMP/err")" 'nonexistent\.jsonl' "naming the file"
pf_stop
tap_done
