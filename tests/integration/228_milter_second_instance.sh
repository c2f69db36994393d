#!/bin/bash
# A second instance never takes over a running milter's unix socket, with
# or without PidFile (review 1, item 1). Before the fix, the second
# "relayguard-milter -f" on the same unix: socket (no PidFile, as in the
# sample config and the systemd unit) replaced the first one's socket node,
# got the traffic, and unlinked the socket at its exit: the first kept
# running, unreachable. Now the second is refused at start with the reason
# and the socket is left alone; a stale socket (nobody listening) is still
# replaced; at exit a daemon removes only its own socket node.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/milter/lib.sh

rg_built "$MILTER"
RAW="python3 tests/milter/rawmilter.py"

ml_start "Mode enforce" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
P1=$ML_PID
ino=$(stat -c %i "$ML_SOCK")
out=$(timeout 20 "$MILTER" -f -c "$ML_DIR/relayguard.conf" 2>&1); rc=$?
tap_is "$rc" 1 "a second instance on the same unix socket (no PidFile) is refused"
tap_like "$out" "socket $ML_SOCK: another process \\(a running relayguard-milter\\?\\) answers on it: refusing to take it over" \
	"with the reason"
tap_is "$(stat -c %i "$ML_SOCK" 2>/dev/null)" "$ino" "the socket node is left alone"
tap_check "the first keeps running" rg_pid_alive "$P1"
tap_like "$($RAW --socket "unix:$ML_SOCK" --family 4 --addr 192.0.2.9 --rcpt '<x@victim.example>' 2>&1)" \
	'RCPT <x@victim.example> reply 554' "and the first still answers on its socket"
tap_is "$(grep -c relay_refused "$ML_DIR/milter.log")" 1 "the first one logged the refusal"

# A daemon removes only its own node at exit: replace the node behind the
# running daemon's back (as a later instance would after a stale start).
mv "$ML_SOCK" "$ML_DIR/old.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$ML_SOCK"
ml_stop
tap_check "at exit the daemon leaves a socket node that is not its own" test -S "$ML_SOCK"

# A stale node (nobody answers): the start replaces it.
ml_start_again() {
	rg_spawn "$ML_DIR/milter2.log" "$MILTER" -f -c "$ML_DIR/relayguard.conf"
	ML_PID=$RG_SPAWN_PID
	rg_retry 10 grep -q "starting:" "$ML_DIR/milter2.log"
}
ml_start_again || tap_diag "$(cat "$ML_DIR/milter2.log")"
tap_like "$($RAW --socket "unix:$ML_SOCK" --family 4 --addr 192.0.2.9 --rcpt '<x@victim.example>' 2>&1)" \
	'RCPT <x@victim.example> reply 554' "a stale socket node is replaced at start"
ml_stop
tap_check "and a daemon removes its own socket at exit" test ! -e "$ML_SOCK"
tap_done
