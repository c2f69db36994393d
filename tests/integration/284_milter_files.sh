#!/bin/bash
# The milter's files and outputs under a hostile or careless world
# (issue 16, items 8, 9 and 11):
#   - a FIFO at the EventLog path: the start stops within seconds with
#     "EventLog PATH: not a regular file (a FIFO)" (before: blocked for ever
#     in open()), with or without a reader; -t says so too; at a reload the
#     running config and its event log stay, and SIGTERM still stops the
#     milter (before: the signal thread hung in open() and the stop never
#     finished); a FIFO put in place of the running log at a logrotate
#     reopen: events go on to the file open before;
#   - a symbolic link at the EventLog or PidFile path: refused (start and
#     -t), the link's target untouched (before: EventLog followed it);
#   - the EventLog past the file size limit (ulimit -f): the milter keeps
#     refusing relays, says so once with the reason and counts every lost
#     event in /metrics (before: SIGXFSZ killed the milter);
#   - stdout on /dev/full for -t, -V and --import: exit 1 with "write error
#     on standard output" (before: -t and -V exited 0, --import silently 1);
#   - 20 slow HTTP clients (one header line every 3 s each, for ever) do
#     not keep a scraper from /metrics; 100 of them (more than the
#     connection limit) neither: the per-connection deadline frees places.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
command -v curl >/dev/null || { tap_skip "milter files" "curl not installed"; tap_done; exit; }
D=$(mktemp -d "${TMPDIR:-/tmp}/rg-mfiles.XXXXXX") || tap_bail "mktemp"
[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$D'"
chmod 755 "$D"

conf() {	# EVENTLOG PIDFILE [EXTRA]
	cat >"$D/m.conf" <<EOF2
Socket unix:$D/m.sock
SocketMode 0666
EventLog $1
PidFile $2
Mode enforce
TrustedNetworks 127.0.0.1/32
LocalDomains site.example
$3
EOF2
}
start_fg() {	# the whole start, bounded: rc, out, secs
	local t0
	t0=$(rg_now_ms)
	out=$(timeout -k 3 15 "$MILTER" -f -c "$D/m.conf" 2>&1)
	rc=$?
	secs=$((($(rg_now_ms) - t0) / 1000))
}

# --- a FIFO at the EventLog path --------------------------------------------------
mkfifo "$D/fifo"
conf "$D/fifo" "$D/m.pid"
start_fg
tap_is "$rc" 1 "a FIFO (no reader) at EventLog: the start stops with status 1 (not hung: 124)"
tap_like "$out" "EventLog $D/fifo: not a regular file \\(a FIFO\\)" "with the reason"
tap_check "within seconds (${secs}s), not the 15 s timeout" test "$secs" -lt 14
exec 7<>"$D/fifo"	# a reader: the open would succeed
start_fg
exec 7>&-
tap_is "$rc" 1 "a FIFO with a reader: refused too"
tap_like "$out" "EventLog $D/fifo: not a regular file" "with the reason"
out=$("$MILTER" -t -c "$D/m.conf" 2>&1); rc=$?
tap_is "$rc" 1 "-t: a FIFO at EventLog is an error"
tap_like "$out" "$D/m.conf:3: EventLog $D/fifo: not a regular file \\(a FIFO\\)" "-t names it, with the line"
conf "$D/events.jsonl" "$D/fifo"
out=$("$MILTER" -t -c "$D/m.conf" 2>&1); rc=$?
tap_like "$rc:$(tail -1 <<<"$out")" "^1:$D/m.conf:4: PidFile $D/fifo: not a regular file \\(a FIFO\\)$" "-t: a FIFO at PidFile too, named with its line"

# --- symbolic links ---------------------------------------------------------------
echo precious >"$D/target"
chmod 600 "$D/target"
ln -s "$D/target" "$D/link"
conf "$D/link" "$D/m.pid"
start_fg
tap_is "$rc" 1 "a symlink at EventLog: the start is refused"
tap_like "$out" "EventLog $D/link is a symbolic link: refusing to follow it" "with the reason"
tap_is "$(cat "$D/target"):$(stat -c %a "$D/target")" "precious:600" "the link's target is untouched"
out=$("$MILTER" -t -c "$D/m.conf" 2>&1)
tap_like "$out" "EventLog $D/link is a symbolic link" "-t reports the EventLog link"
conf "$D/events.jsonl" "$D/link"
start_fg
tap_is "$rc" 1 "a symlink at PidFile: the start is refused"
tap_like "$out" "PidFile $D/link is a symbolic link: refusing to follow it" "with the reason"
tap_is "$(cat "$D/target")" precious "the link's target is untouched"
out=$("$MILTER" -t -c "$D/m.conf" 2>&1); rc=$?
tap_like "$rc:$out" "^1:.*PidFile $D/link is a symbolic link" "-t reports the PidFile link"
rm -f "$D/events.jsonl" "$D/m.pid"

# --- standard output on /dev/full -------------------------------------------------
conf "$D/events.jsonl" "$D/m.pid"
full() {	# ARGS...: "rc: last line of stderr"
	local err
	err=$("$MILTER" "$@" 2>&1 >/dev/full)
	echo "$?: $(tail -1 <<<"$err")"
}
tap_like "$(full -t -c "$D/m.conf")" "^1: .*write error on standard output" "-t >/dev/full: exit 1, and why"
tap_like "$(full -V)" "^1: .*write error on standard output" "-V >/dev/full: exit 1, and why"
mkdir "$D/pf" && printf 'mynetworks = 127.0.0.0/8\nrelay_domains = relay.example\n' >"$D/pf/main.cf"
if command -v postconf >/dev/null; then
	tap_like "$(full --import "postfix:$D/pf")" "^1: .*write error on standard output" \
		"--import postfix >/dev/full: exit 1, and why"
	tap_is "$("$MILTER" --import "postfix:$D/pf" >/dev/null 2>&1; echo $?)" 0 "(--import to a good stdout: exit 0)"
else
	tap_skip "--import >/dev/full" "postconf not installed"
fi

# --- reload onto a FIFO; SIGTERM still works --------------------------------------
ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
RAW=(python3 tests/milter/rawmilter.py --socket "unix:$ML_SOCK" --family 4 --addr 192.0.2.8)
cp "$ML_DIR/relayguard.conf" "$ML_DIR/good.conf"
mkfifo "$ML_DIR/fifo"
sed -i "s|^EventLog .*|EventLog $ML_DIR/fifo|" "$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
tap_check "a reload onto a FIFO is refused with the reason" rg_retry 10 grep -q \
	"reload refused, keeping the running configuration and its event log: EventLog $ML_DIR/fifo: not a regular file (a FIFO)" \
	"$ML_DIR/milter.log"
"${RAW[@]}" --rcpt '<a@victim.example>' >/dev/null
tap_is "$(ml_event_count relay_refused)" 1 "events go on to the running event log"
cp "$ML_DIR/good.conf" "$ML_DIR/relayguard.conf"
mv "$ML_DIR/events.jsonl" "$ML_DIR/events.old"
mkfifo "$ML_DIR/events.jsonl"
kill -USR1 "$ML_PID"	# logrotate's reopen, a FIFO planted at the name
tap_check "a FIFO at the running EventLog path: the reopen says why" rg_retry 10 grep -q \
	"EventLog $ML_DIR/events.jsonl: not a regular file (a FIFO): events go on to the file open before" \
	"$ML_DIR/milter.log"
"${RAW[@]}" --rcpt '<b@victim.example>' >/dev/null
tap_is "$(jq -r 'select(.event=="relay_refused") | .recipient' "$ML_DIR/events.old" | tr '\n' ' ')" \
	"<a@victim.example> <b@victim.example> " "and the event is in the file open before"
P=$ML_PID
kill -TERM "$P"
tap_check "SIGTERM stops the milter within 15 s" rg_wait_pids_gone 15 "$P"
ml_stop

# --- the EventLog past the file size limit --------------------------------------------
MPORT=$(rg_free_port tcp) || tap_bail "no free port"
L=$D/limit
mkdir "$L" && chmod 755 "$L"
# 100 bytes below the 64 KB limit: the first event is cut short, the rest fail
head -c 65436 /dev/zero | tr '\0' '#' >"$L/events.jsonl"
cat >"$L/m.conf" <<EOF2
Socket unix:$L/m.sock
SocketMode 0666
EventLog $L/events.jsonl
Mode enforce
TrustedNetworks 127.0.0.1/32
LocalDomains site.example
MetricsListen 127.0.0.1:$MPORT
EOF2
rg_spawn "$L/milter.log" bash -c 'ulimit -S -f 64 && exec "$0" -f -c "$1"' "$MILTER" "$L/m.conf"
LP=$RG_SPAWN_PID
rg_retry 10 grep -q "starting:" "$L/milter.log" && rg_retry 5 test -S "$L/m.sock" ||
	tap_diag "no start: $(cat "$L/milter.log")"
RAWL=(python3 tests/milter/rawmilter.py --socket "unix:$L/m.sock" --family 4 --addr 192.0.2.8)
tap_like "$("${RAWL[@]}" --rcpt '<a@victim.example>' --rcpt '<b@victim.example>' --rcpt '<c@victim.example>')" \
	"RCPT <a@victim.example> reply 5.*RCPT <b@.*reply 5.*RCPT <c@.*reply 5" \
	"the event log cannot grow: relays are still refused"
tap_check "the milter is alive (no SIGXFSZ)" rg_pid_alive "$LP"
tap_is "$(grep -c 'EventLog .*: cannot write an event: File too large' "$L/milter.log")" 1 \
	"the failure is logged once, with the reason"
M=$(curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics")
tap_is "$(awk '$1 == "relayguard_event_log_write_errors_total" {print $2}' <<<"$M")" 4 \
	"every lost event is counted (milter_start and 3 relay_refused)"
tap_is "$(stat -c %s "$L/events.jsonl")" 65436 "the cut line was removed again: no half line in the log"
if command -v prlimit >/dev/null && prlimit --pid "$LP" --fsize=unlimited:unlimited; then
	"${RAWL[@]}" --rcpt '<d@victim.example>' >/dev/null
	tap_check "the limit lifted: the next event is written" \
		grep -q '"recipient":"<d@victim.example>"' "$L/events.jsonl"
	tap_check "and the log says how many were lost" \
		grep -q "EventLog $L/events.jsonl: writes work again; 4 events were lost before this one" "$L/milter.log"
else
	tap_skip "the limit lifted" "prlimit missing or not allowed"
fi
rg_kill_pid "$LP" 15

# --- slow HTTP clients against /metrics ---------------------------------------------------
ml_start "MetricsListen 127.0.0.1:$MPORT" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
rg_retry 10 rg_wait_port 127.0.0.1 "$MPORT" 1 || tap_bail "no metrics listener"
scrapes() {	# N: "served/N, slowest S ms"
	local i ok=0 t0 t max=0
	for ((i = 0; i < $1; i++)); do
		t0=$(rg_now_ms)
		curl -sS --max-time 12 "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
			grep -q '^relayguard_uptime_seconds ' && ok=$((ok + 1))
		t=$(($(rg_now_ms) - t0))
		[ "$t" -gt "$max" ] && max=$t
	done
	echo "served $ok/$1, slowest ${max} ms"
}
slow() {	# CLIENTS INTERVAL SECONDS: start the slow clients, wait until connected
	rg_spawn "$D/slow$1.log" python3 tests/tools/slow_http.py --port "$MPORT" \
		--clients "$1" --interval "$2" --duration "$3"
	SLOW_PID=$RG_SPAWN_PID
	rg_retry 20 grep -q ready "$D/slow$1.log" || tap_diag "slow clients: $(cat "$D/slow$1.log")"
	sleep 1
}
slow 20 3 40
r=$(scrapes 5)
tap_like "$r" "^served 5/5, slowest [0-9]+ ms" "20 slow clients hold connections: /metrics still served ($r)"
ms=${r##*slowest }; ms=${ms% ms}
tap_check "each scrape within 10 s (${ms} ms)" test "$ms" -lt 10000
rg_kill_pid "$SLOW_PID"
# a line every 1.5 s: within libmicrohttpd's 3 s idle timeout, so only the
# deadline frees places
slow 100 1.5 60
r=$(scrapes 3)
tap_like "$r" "^served 3/3" "100 slow clients, more than the 64 places: /metrics still served ($r)"
ms=${r##*slowest }; ms=${ms% ms}
tap_check "each scrape within 12 s (5 s deadline + 1 s tick + slack; ${ms} ms)" test "$ms" -lt 12000
tap_check "the deadline is logged" rg_retry 5 grep -q "metrics: closed [0-9]* connections\? that had not finished in 5 s" \
	"$ML_DIR/milter.log"
rg_kill_pid "$SLOW_PID"
ml_stop
tap_done
