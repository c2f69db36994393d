#!/bin/bash
# LogVerbose follows the reloaded config both ways (issue 9, item 7): the
# verbose level is part of the logging state the signal thread sets
# atomically at each reload, and goes back down with "LogVerbose no"
# (before, a reload could only raise it). The debug lines observed are the
# resolver's (ReverseDNS against a nameserver port nobody answers on), one
# set per session. Then a SIGUSR1 storm during sessions: every session is
# still answered and the daemon survives (run it under SANITIZE=thread to
# have ThreadSanitizer watch the logging state).
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
RAW="python3 tests/milter/rawmilter.py"
NS_PORT=$(rg_free_port udp) || tap_bail "no free port"
# A nameserver that never answers: each session's PTR lookup waits
# DNSTimeout, so sessions are in flight while the signal thread reloads.
rg_spawn /dev/null python3 -c "import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $NS_PORT))
time.sleep(300)"
rg_wait_port 127.0.0.1 "$NS_PORT" 5 udp || tap_bail "black-hole nameserver did not start"
ml_start "Mode enforce
LogVerbose yes
ReverseDNS yes
Nameservers 127.0.0.1:$NS_PORT
DNSTimeout 0.2
DNSRetries 0" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"

session() { $RAW --socket "unix:$ML_SOCK" --family 4 --addr 192.0.2.9 --rcpt '<x@victim.example>' 2>&1; }
debug_lines() { grep -c ': debug: ' "$ML_DIR/milter.log"; }
reloads=0
reload() {	# sed expression for the config
	sed -i "$1" "$ML_DIR/relayguard.conf"
	reloads=$((reloads + 1))
	kill -USR1 "$ML_PID"
	rg_retry 10 rg_count_ge "$reloads" grep -c "reloaded" "$ML_DIR/milter.log" ||
		tap_diag "no reload line: $(tail -3 "$ML_DIR/milter.log")"
}

n0=$(debug_lines)
tap_like "$(session)" "reply 554" "LogVerbose yes: a session (relay refused)"
n1=$(debug_lines)
tap_like "$((n1 - n0))" '^[1-9][0-9]*$' "LogVerbose yes: the session wrote $((n1 - n0)) debug lines"

reload 's/^LogVerbose yes/LogVerbose no/'
n2=$(debug_lines)
tap_like "$(session)" "reply 554" "after a reload to LogVerbose no: a session"
sleep 0.5
tap_is "$(debug_lines)" "$n2" "after a reload to LogVerbose no: no debug line any more"

reload 's/^LogVerbose no/LogVerbose yes/'
n3=$(debug_lines)
session >/dev/null
tap_like "$(( $(debug_lines) - n3 ))" '^[1-9][0-9]*$' "and back up after a reload to LogVerbose yes"

# A SIGUSR1 storm while sessions run: every session answered, daemon alive.
(
	for _ in $(seq 1 40); do
		kill -USR1 "$ML_PID" 2>/dev/null
		sleep 0.05
	done
) &
storm=$!
for i in $(seq 1 24); do
	session >"$ML_DIR/storm.$i" &
	[ $((i % 4)) -eq 0 ] && sleep 0.1
done
wait "$storm"
for i in $(seq 1 24); do
	rg_retry 20 grep -q "reply 554" "$ML_DIR/storm.$i" || true
done
tap_is "$(cat "$ML_DIR"/storm.* | grep -c 'reply 554')" 24 "during a SIGUSR1 storm every session (4 at a time) is answered"
tap_check "and the daemon is alive" rg_pid_alive "$ML_PID"
ml_stop
tap_unlike "$(cat "$ML_DIR/milter.log")" "ThreadSanitizer|AddressSanitizer|runtime error" "no sanitizer report"
tap_done
