#!/bin/bash
# rg-timeout: 900
# relayguard-audit loses nothing and never fails silently (issue 16, items
# 6, 7, 11, 12):
# - every output (text, json, jsonl, iodef, --list-tricks, -o FILE) onto
#   /dev/full, a full tmpfs or a closed stdout: exit 4 and one line naming
#   the error; -o FILE is complete or absent, never cut;
# - SIGINT/SIGTERM in the middle of a list: the finished targets are written
#   (valid JSON, a whole IODEF document), the unfinished one is named, a
#   --resume hint is printed, exit 128+signal; --resume then completes it;
# - a server whose every reply is 99 lines of 2 KB: the transcript keeps
#   its first and last 128 KiB and records the cut;
# - --confirm within --budget, and the Maildir read before anything but
#   "confirmed" is said (a slow end of data).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/hostile.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rg-outputs.XXXXXX")
rg_cleanup_add "rm -rf '$TMP'"
audit() { timeout 120 "$AUDIT" -d victim.example -t 10 --budget 60 "$@"; }
ENOSPC='write error.*No space left on device'

# two closed servers, fresh for each format: a hostile_smtpd lives at
# most 120 s, and a loaded ASan run needs longer for all four formats
two_servers() {
	[ -n "${HPID_A:-}" ] && rg_kill_pid "$HPID_A" && rg_kill_pid "$HPID_B"
	start_hostile normal-reject
	A=127.0.0.1:$HPORT HPID_A=$HPID
	start_hostile normal-reject
	B=127.0.0.1:$HPORT HPID_B=$HPID
}
two_servers

# --- a small tmpfs with one free page: every report is cut by ENOSPC ------
PART=$TMP/part
mkdir -p "$PART"
if mount -t tmpfs -o size=64k,mode=0755 rg-outputs "$PART" 2>/dev/null; then
	rg_cleanup_add "umount '$PART'"
	echo old > "$PART/keep.json"		# one page
	dd if=/dev/zero of="$PART/fill" bs=4096 count=14 2>/dev/null
	HAVE_TMPFS=1
else
	HAVE_TMPFS=
fi

skip_n() { local i; for ((i = 0; i < $1; i++)); do tap_skip "$2" "$3"; done; }

# out_fails DESC EXPECT_RE STDOUT CMD...: CMD's stdout to the file STDOUT
# (- closed); exit 4 and one line matching EXPECT_RE
out_fails() {
	local desc=$1 re=$2 to=$3 rc
	shift 3
	if [ "$to" = - ]; then
		"$@" 2> "$TMP/err" >&-
	else
		"$@" 2> "$TMP/err" > "$to"
	fi
	rc=$?
	tap_is "$rc" 4 "$desc: exit 4" || tap_diag "$(cat "$TMP/err")"
	tap_like "$(cat "$TMP/err")" "$re" "$desc: says why"
}

# no_file PATH DESC: neither PATH nor a temporary file beside it
no_file() {
	local left
	left=$(find "$(dirname "$1")" -name "$(basename "$1")" -o -name ".$(basename "$1").*" | head -3)
	tap_is "$left" "" "$2: no file and no partial file left"
}

for fmt in text json jsonl iodef; do
	two_servers
	out_fails "-f $fmt > /dev/full" "$ENOSPC" /dev/full audit -f "$fmt" "$A" "$B"
	out_fails "-f $fmt >&- (stdout closed)" 'standard output is closed' - audit -f "$fmt" "$A" "$B"
	if [ -n "$HAVE_TMPFS" ]; then
		out_fails "-f $fmt > a full tmpfs" "$ENOSPC" "$PART/out.$fmt" audit -f "$fmt" "$A" "$B"
		rm -f "$PART/out.$fmt"
		out_fails "-f $fmt -o FILE on a full tmpfs" "out\\.$fmt: $ENOSPC" "$TMP/stdout" \
			audit -f "$fmt" -o "$PART/out.$fmt" "$A" "$B"
		no_file "$PART/out.$fmt" "-f $fmt -o FILE on a full tmpfs"
		out_fails "-f $fmt -o an existing FILE on a full tmpfs" "$ENOSPC.*left as it was" "$TMP/stdout" \
			audit -f "$fmt" -o "$PART/keep.json" "$A" "$B"
		tap_is "$(cat "$PART/keep.json")" old "-f $fmt: the existing FILE is left as it was"
	else
		skip_n 8 "full tmpfs" "no tmpfs (not root?)"
	fi
	audit -f "$fmt" -o "$TMP/ok.$fmt" "$A" "$B" > "$TMP/stdout" 2> "$TMP/err"
	tap_is "$?" 0 "-f $fmt -o FILE: exit 0 (both closed)"
	tap_is "$(wc -c < "$TMP/stdout")" 0 "-f $fmt -o FILE: nothing on stdout"
done
tap_is "$(jq -r '.[].verdict' "$TMP/ok.json" | sort | uniq -c | awk '{print $1, $2}')" "2 closed" \
	"-o FILE json: two whole results"
tap_check "-o FILE iodef: a valid document" xmllint --nonet --noout \
	--schema schemas/iodef/iodef-2.0-offline.xsd "$TMP/ok.iodef"
tap_like "$(cat "$TMP/ok.text")" 'Verdict: CLOSED' "-o FILE text: the report"

out_fails "--list-tricks > /dev/full" "$ENOSPC" /dev/full "$AUDIT" --list-tricks
out_fails "--list-tricks >&-" 'standard output is closed' - "$AUDIT" --list-tricks
if [ -n "$HAVE_TMPFS" ]; then
	dd if=/dev/zero of="$PART/fill2" bs=4096 count=1 2>/dev/null	# the last page
	out_fails "--list-tricks > a full tmpfs" "$ENOSPC" "$PART/tricks" "$AUDIT" --list-tricks
	out_fails "--list-tricks -o FILE on a full tmpfs" "$ENOSPC" "$TMP/stdout" \
		"$AUDIT" -o "$PART/tricks2" --list-tricks
	no_file "$PART/tricks2" "--list-tricks -o FILE"
else
	skip_n 5 "full tmpfs" "no tmpfs (not root?)"
fi
"$AUDIT" -o "$TMP/tricks" --list-tricks
tap_is "$(wc -l < "$TMP/tricks")" "$("$AUDIT" --list-tricks | wc -l)" "--list-tricks -o FILE: the whole catalogue"
out_fails "-o /dev/null is refused" 'not a regular file' "$TMP/stdout" "$AUDIT" -o /dev/null --list-tricks
tap_check "/dev/null is still a device" test -c /dev/null

# --- SIGINT / SIGTERM in the middle of a list --------------------------------
# A and B answer at once, S never greets (the auditor waits -t 30 for it):
# the list A S B with -j 2 has A and B done while S is in flight.
# --per-host 1: hostile_smtpd serves one connection at a time, and a
# session opened ahead would wait behind the one in use.
start_hostile normal-reject	# fresh ones: each lives at most 120 s
A=127.0.0.1:$HPORT
start_hostile normal-reject
B=127.0.0.1:$HPORT
start_hostile silent
S=127.0.0.1:$HPORT
# both_done: -v said A and B are graded
both_done() {
	grep -q "port ${A##*:}: closed" "$TMP/err" && grep -q "port ${B##*:}: closed" "$TMP/err"
}
# stop_after SIG CMD...: run CMD with -v, signal it once A and B are done
# (S is still waiting for its greeting then); sets RC
stop_after() {
	local sig=$1 pid
	shift
	"$@" -v 2> "$TMP/err" &
	pid=$!
	rg_retry 20 both_done || tap_diag "A and B not done after 20 s"
	kill -"$sig" "$pid"
	wait "$pid"
	RC=$?
}
stop_after INT "$AUDIT" -d victim.example -t 30 -j 2 --per-host 1 -f json -o "$TMP/sig.json" "$A" "$S" "$B"
tap_is "$RC" 130 "SIGINT: exit 130"
tap_check "SIGINT -f json -o FILE: the finished results are valid JSON" jq -e . "$TMP/sig.json"
tap_is "$(jq -r '.[].target' "$TMP/sig.json" 2>/dev/null | tr '\n' ' ')" "$A $B " \
	"SIGINT: both finished targets written, in list order"
tap_like "$(cat "$TMP/err")" "interrupted: 127\\.0\\.0\\.1 port ${S##*:} not finished" "SIGINT: the unfinished target is named"
tap_like "$(cat "$TMP/err")" "--resume $TMP/sig.json" "SIGINT: a --resume hint naming the file"
audit -t 1 --budget 5 -j 2 --per-host 1 -f json --resume "$TMP/sig.json" -o "$TMP/sig.json" "$A" "$S" "$B" 2>/dev/null
tap_is "$(jq -r '.[].target' "$TMP/sig.json" 2>/dev/null | tr '\n' ' ')" "$A $B $S " \
	"--resume FILE -o FILE: the earlier results kept, the unfinished one added"

stop_after TERM "$AUDIT" -d victim.example -t 30 -j 2 --per-host 1 "$A" "$S" "$B" > "$TMP/sig.txt"
tap_is "$RC" 143 "SIGTERM: exit 143"
tap_is "$(grep -c '^Verdict: CLOSED' "$TMP/sig.txt")" 2 "SIGTERM -f text: both finished reports on stdout" ||
	tap_diag "$(head -c 600 "$TMP/sig.txt"; cat "$TMP/err")"
tap_like "$(cat "$TMP/err")" "port ${S##*:} not finished" "SIGTERM: the unfinished target is named"
tap_like "$(cat "$TMP/err")" "resume" "SIGTERM: how to go on"

stop_after INT "$AUDIT" -d victim.example -t 30 -j 2 --per-host 1 -f iodef "$A" "$S" "$B" > "$TMP/sig.xml"
tap_check "SIGINT -f iodef: a whole, valid document" xmllint --nonet --noout \
	--schema schemas/iodef/iodef-2.0-offline.xsd "$TMP/sig.xml"
tap_is "$(grep -c '<Incident ' "$TMP/sig.xml")" 2 "SIGINT -f iodef: an Incident per finished target"

# in list order as they finish: A is on stdout while S is still in flight
"$AUDIT" -d victim.example -t 30 -j 2 --per-host 1 -f json "$A" "$S" > "$TMP/early.json" 2>/dev/null &
pid=$!
rg_retry 10 grep -q "\"$A\"" "$TMP/early.json"
tap_check "-f json: a finished result is written while a later one runs" grep -q "\"$A\"" "$TMP/early.json"
kill -TERM "$pid"; wait "$pid"
stop_hostile

# --- the transcript of a server with 99-line replies of 2 KB lines ---------
start_hostile huge-reply
H=127.0.0.1:$HPORT
/usr/bin/time -f %M -o "$TMP/rss" "$AUDIT" -d victim.example -t 10 --budget 60 -f json -T "$H" > "$TMP/huge.json" 2>/dev/null
stop_hostile
bytes=$(jq -c .transcript "$TMP/huge.json" | wc -c)
tap_diag "huge-reply: transcript $bytes bytes of JSON, $(jq .transcript_cut.bytes "$TMP/huge.json") bytes cut, peak RSS $(cat "$TMP/rss") KB"
tap_check "the transcript stays bounded (${bytes} bytes of JSON < 600000)" test "$bytes" -lt 600000
tap_is "$(jq -r '.transcript_cut.lines > 1000' "$TMP/huge.json")" true "the cut is recorded in the JSON (lines)"
tap_like "$(jq -r '.transcript[.transcript_cut.at].line' "$TMP/huge.json")" \
	'^transcript cut here: [0-9]+ lines \([0-9]+ bytes\) omitted' "and in the transcript, where it was cut"
tap_like "$(jq -r '.transcript[0].line' "$TMP/huge.json")" '^connected to' "the first part is kept"
tap_like "$(jq -r '.transcript[.transcript_cut.at + 1:][] | "\(.dir) \(.line)"' "$TMP/huge.json" | grep -v '^< ...-')" \
	'> QUIT' "the last part is kept (the sessions' end)"
case $BUILD in
*san*) tap_skip "peak RSS bounded" "RSS under sanitizers says nothing" ;;
*) tap_check "peak RSS $(cat "$TMP/rss") KB < 40000" test "$(cat "$TMP/rss")" -lt 40000 ;;
esac

# --- --confirm: the Maildir is read, and --budget holds ----------------------
MD=$TMP/box
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
# --per-host 1: hostile_smtpd serves one connection at a time
confirm() { "$AUDIT" -d victim.example -f json --per-host 1 --confirm canary@canary.test --confirm-maildir "$MD" "$@"; }
# the end of data answered after 3 s, the message already delivered
HOSTILE_MAILDIR=$MD HOSTILE_DOT_DELAY=3 start_hostile slow-dot
confirm -t 10 --budget 60 --confirm-wait 1 "127.0.0.1:$HPORT" > "$TMP/c1.json" 2>/dev/null
stop_hostile
tap_is "$(jq -r .confirmation.state "$TMP/c1.json")" confirmed \
	"a slow end of data: the Maildir is read after the send (confirmed)" || tap_diag "$(jq -c .confirmation "$TMP/c1.json")"
# the end of data answered after 40 s: --budget 12 ends the canary too
rm -f "$MD"/new/*
HOSTILE_MAILDIR=$MD HOSTILE_DOT_DELAY=40 start_hostile slow-dot
t0=$(rg_now_ms)
confirm -t 60 --budget 12 --confirm-wait 30 "127.0.0.1:$HPORT" > "$TMP/c2.json" 2>/dev/null
secs=$(( ($(rg_now_ms) - t0) / 1000 ))
stop_hostile
tap_check "--budget 12 covers the canary: ${secs} s wall (< 25)" test "$secs" -lt 25
el=$(jq -r .elapsed_seconds "$TMP/c2.json")
tap_check "elapsed_seconds ($el) covers the canary (>= 11) and stays near the budget (<= 16)" \
	awk -v e="$el" 'BEGIN { exit !(e >= 11 && e <= 16) }'
tap_is "$(jq -r .confirmation.state "$TMP/c2.json")" confirmed \
	"no reply to the end of data, but the Maildir is read: confirmed" || tap_diag "$(jq -c .confirmation "$TMP/c2.json")"
# the same, delivered nowhere: not "not_delivered" without an answer
HOSTILE_DOT_DELAY=40 start_hostile slow-dot
confirm -t 60 --budget 12 --confirm-wait 30 "127.0.0.1:$HPORT" > "$TMP/c3.json" 2>/dev/null
stop_hostile
tap_is "$(jq -r .confirmation.state "$TMP/c3.json")" unanswered \
	"no reply and nothing in the Maildir: unanswered" || tap_diag "$(jq -c .confirmation "$TMP/c3.json")"
tap_done
