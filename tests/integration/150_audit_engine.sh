#!/bin/bash
# relayguard-audit's engine on real Postfix: one thread for every target
# and session (fibers on one event loop, not a thread per target); the
# --per-host pool never holds more connections than asked, proven by
# Postfix's own smtpd_client_connection_count_limit; sessions end with QUIT
# (Postfix logs quit=1) although the 221 is read after the report, except a
# session whose last reply was its tenth refusal: Postfix would answer its
# QUIT only after smtpd_error_sleep_time, so it is closed right after that
# RCPT (Postfix logs "lost connection after RCPT", nothing else); memory follows --concurrency, not the length of the
# target list; results are the same whatever the engine's parallelism.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/postfix.sh
source tests/lib/hostile.sh

W=$(mktemp -d)
rg_cleanup_add "rm -rf $W"
probes() { jq -c '[.tests[] | [.id, .outcome, .stage, .code, .enhanced, .data]]'; }

# Postfix refuses a client's connections past the limit with 421 - loopback
# too, since the exceptions list is emptied. --per-host 4 against a limit of
# 4: one connection too many would show as a 421 in the log and the report.
PF_LISTEN_ALL=1 PF_MAIN_EXTRA='smtpd_client_connection_count_limit = 4
smtpd_client_event_limit_exceptions =
inet_interfaces = all' pf_start closed >/dev/null || tap_bail "cannot start Postfix"
A=("$AUDIT" -p "$PF_PORT" -s 127.0.0.2 -d victim.example -t 10 -f json)
par=$("${A[@]}" --per-host 4 --transcript 127.0.0.1 2>"$W/err")
one=$("${A[@]}" --per-host 1 --no-pipelining 127.0.0.1 2>/dev/null)
tap_is "$(pf_log_count 'concurrency limit exceeded')" 0 \
	"--per-host 4 vs Postfix's connection limit 4: Postfix never saw a 5th connection"
tap_is "$(jq '[.transcript[] | select(.line|test("^421"))] | length' <<<"$par")" 0 \
	"--per-host 4: no 421 anywhere in the transcript"
# connections open at once, from the transcript's connected/closed events
concurrent() {
	jq '[.transcript[] | .line] | reduce .[] as $l ({c: 0, m: 0};
	    if ($l|test("^connected to")) then .c += 1 | .m = ([.m, .c]|max)
	    elif ($l|test("^connection closed")) then .c -= 1 else . end) | .m'
}
tap_is "$(concurrent <<<"$par")" 4 "--per-host 4: 4 sessions side by side, never more (transcript)"
tap_is "$(probes <<<"$par")" "$(probes <<<"$one")" \
	"--per-host 4 pipelined and --per-host 1 lock-step: identical probe results"
tap_check "the report says the last sessions close after it (QUIT sent, 221 read later)" \
	jq -e '[.transcript[] | select(.line|test("closing: QUIT sent, the 221 is read after this report"))] | length == 1' <<<"$par"
pf_wait_log 'disconnect from' 5 >/dev/null
sleep 1	# the last disconnect lines
tap_is "$(pf_log_count 'lost connection')" "$(pf_log_count 'lost connection after RCPT')" \
	"a session Postfix logs as lost ended right after a RCPT (its last refusal)"
tap_is "$(grep 'disconnect from' "$PF_LOG" | grep -vc 'quit=1')" "$(pf_log_count 'lost connection after RCPT')" \
	"every other session's disconnect line has quit=1"
tap_check "Postfix logged disconnects" [ "$(pf_log_count 'disconnect from')" -gt 0 ]

# Asked for more than the server allows: it says 421 "too many connections",
# the auditor settles at what the server takes and loses no probe. Another
# client from the same address holds three of the four places meanwhile, so
# the sessions opened ahead meet the limit (lanes wait for those on their
# way rather than open their own beside them). Postfix turns a connection
# away only once an smtpd process takes it; some runs queue them instead
# (greeted one by one as ours close): up to three tries for a 421.
python3 -c '
import socket, sys, time
held = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.recv(512)
    held.append(s)
open(sys.argv[2], "w").close()
time.sleep(120)' "$PF_PORT" "$W/held" &
holder=$!
rg_retry 10 test -e "$W/held" || tap_bail "the holding client did not connect"
for try in 1 2 3; do
	many=$("${A[@]}" --per-host 12 --transcript 127.0.0.1 2>/dev/null)
	jq -e '[.transcript[] | select(.line|test("^421 "))] | length > 0' <<<"$many" >/dev/null && break
done
rg_kill_pid "$holder"
if jq -e '[.transcript[] | select(.line|test("^421 "))] | length > 0' <<<"$many" >/dev/null; then
	tap_check "--per-host 12 vs a limit of 4 (3 held): the 421 is understood (at most 1 from then on)" \
		jq -e '[.transcript[] | select(.line|test("turned a connection away \\(421 .*at most 1 at once"))] | length >= 1' <<<"$many"
else
	tap_skip "--per-host 12 vs a limit of 4 (3 held): the 421 is understood" \
		"Postfix queued the connections in 3 tries, no 421"
fi
tap_is "$(probes <<<"$many")" "$(probes <<<"$one")" \
	"--per-host 12 vs a limit of 4 (3 held): identical probe results (no probe lost to the 421s)"

# One thread, whatever the concurrency: sample the thread count while 12
# targets (the same server under 12 names: 127.0.0.1 .. 127.0.0.12 are all
# loopback, Postfix listens on 127.0.0.1 only, so 11 of them are refused
# fast and one is audited) run with -j 12 --per-host 2.
targets=()
for i in $(seq 1 12); do targets+=("127.0.0.$i"); done
"${A[@]}" -j 12 --per-host 2 -f jsonl "${targets[@]}" >"$W/threads.out" 2>/dev/null &
apid=$!
maxthr=0
while kill -0 "$apid" 2>/dev/null; do
	thr=$(awk '/^Threads:/ {print $2}' "/proc/$apid/status" 2>/dev/null)
	[ -n "$thr" ] && [ "$thr" -gt "$maxthr" ] && maxthr=$thr
	sleep 0.01
done
wait "$apid"
tap_is "$(wc -l <"$W/threads.out")" 12 "-j 12: 12 results"
tap_is "$maxthr" 1 "-j 12 --per-host 2: one thread (fibers on one event loop), not one per target"

# Too few descriptors for --concurrency x --per-host (and as many again
# closing): fewer targets at once, said on stderr; every target still done.
# (three addresses of the one server: the same target thrice is audited once)
(ulimit -n 200; "$AUDIT" -p "$PF_PORT" -s 127.0.0.2 -d victim.example -t 10 -f jsonl \
	-j 100 --per-host 4 127.0.0.1 127.0.1.1 127.0.1.2 >"$W/fd.out" 2>"$W/fd.err")
tap_is "$?" 0 "descriptor limit 200, -j 100 --per-host 4: exit 0 (closed)"
tap_like "$(cat "$W/fd.err")" "--concurrency 100 x --per-host 4 needs [0-9]+ descriptors, the limit is 200: running [0-9]+ targets at once" \
	"descriptor limit: the warning says what was asked, the limit and what runs"
tap_is "$(jq -r .verdict "$W/fd.out" | sort | uniq -c | awk '{print $1, $2}')" "3 closed" \
	"descriptor limit: all 3 targets audited"
pf_stop

# Exim drops a session after 10 non-mail commands (smtp_accept_max_nonmail):
# a server that accepts every RCPT (no error ever renews a session) and does
# the same must never get an 11th - the auditor counts EHLO, RSET and NOOP
# and sizes its groups and sessions to fit.
start_hostile nonmail-limit
nm=$("$AUDIT" -p "$HPORT" -d victim.example -t 5 --budget 60 -f json --transcript 127.0.0.1 2>/dev/null)
nm1=$("$AUDIT" -p "$HPORT" -d victim.example -t 5 --budget 60 -f json --per-host 1 --no-pipelining 127.0.0.1 2>/dev/null)
tap_is "$(jq '[.transcript[] | select(.line|test("Too many nonmail"))] | length' <<<"$nm")" 0 \
	"nonmail limit: no session sent an 11th EHLO/RSET/NOOP"
tap_check "nonmail limit: pipelined, no desync" jq -e '.pipelining.groups > 0 and (.pipelining.desync|not)' <<<"$nm"
tap_is "$(probes <<<"$nm")" "$(probes <<<"$nm1")" "nonmail limit: identical probe results pipelined and lock-step"
stop_hostile

# Memory follows --concurrency, not the list: the same -j 8 over 30 and 300
# targets (jsonl frees each result once written). The targets are addresses
# of one Postfix listening on all of 127/8 (the same target twice would be
# audited once).
PF_LISTEN_ALL=1 PF_MAIN_EXTRA='inet_interfaces = all' pf_start closed >/dev/null || tap_bail "cannot start Postfix"
A=("$AUDIT" -p "$PF_PORT" -s 127.0.0.2 -d victim.example -t 10 -f jsonl -j 8)
for n in 30 300; do
	for i in $(seq 1 "$n"); do echo "127.0.$((i / 250 + 1)).$((i % 250 + 1))"; done >"$W/list$n"
	# (under ASan: no quarantine, which would hold every freed result)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
		/usr/bin/time -f %M -o "$W/rss$n" "${A[@]}" -iL "$W/list$n" >"$W/out$n" 2>/dev/null
done
tap_is "$(jq -r .verdict "$W/out300" | sort | uniq -c | awk '{print $1, $2}')" "300 closed" \
	"300 targets: 300 closed results"
r30=$(tail -1 "$W/rss30") r300=$(tail -1 "$W/rss300")
tap_check "peak RSS with 300 targets ($r300 KB) within 1.5x of 30 targets ($r30 KB) at -j 8" \
	test $((r300 * 2)) -le $((r30 * 3))
pf_stop
tap_done
