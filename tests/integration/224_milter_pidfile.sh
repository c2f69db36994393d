#!/bin/bash
# PidFile (issue 9, item 4), the milter started as root with UserID nobody:
#   - a symbolic link or a hard link planted at the pid path is not written
#     through: the start is refused with the reason, the target unchanged;
#   - the file holds the daemon's pid (after the detach) and a lock: a second
#     instance with the same config is refused before it touches the socket,
#     and the first keeps running and serving;
#   - the file is private (0600): a local user cannot open it to hold its
#     lock and so stop every restart; a lock held by another process while
#     the pid in the file is dead is reported as such (review 1, item 2);
#   - the file is removed at exit although the daemon runs as nobody (the
#     missing directory was created for nobody); in a root-owned directory it
#     is emptied at exit and the start warns.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

rg_built "$MILTER"
[ "$(id -u)" = 0 ] || { tap_skip "pid file" "needs root"; tap_done; exit; }
getent passwd nobody >/dev/null || { tap_skip "pid file" "no user nobody"; tap_done; exit; }

D=$(mktemp -d "${TMPDIR:-/tmp}/rg-mpid.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"
PID_FILE=$D/run/relayguard-milter.pid
SOCK=$D/sock/milter.sock
conf() {	# PIDFILE
	cat >"$D/relayguard.conf" <<EOF
Socket unix:$SOCK
SocketMode 0666
UserID nobody
PidFile $1
Mode enforce
TrustedNetworks 127.0.0.1/32
LocalDomains site.example
EOF
	chmod 644 "$D/relayguard.conf"
}
conf "$PID_FILE"
start_fg() { timeout 20 "$MILTER" -f -c "$D/relayguard.conf" 2>&1; }

# --- planted links ------------------------------------------------------------
mkdir -p "$D/sock" "$D/run" && chown nobody "$D/run"
echo precious >"$D/target"
ln -s "$D/target" "$PID_FILE"
out=$(start_fg); rc=$?
tap_is "$rc" 1 "a symlink at the pid path: the start is refused"
tap_like "$out" "PidFile $PID_FILE is a symbolic link: refusing to follow it" "with the reason"
tap_is "$(cat "$D/target")" precious "the link's target is unchanged"
tap_check "and no socket was created" test ! -e "$SOCK"
rm -f "$PID_FILE"
ln "$D/target" "$PID_FILE"
out=$(start_fg); rc=$?
tap_is "$rc" 1 "a hard link at the pid path: the start is refused"
tap_like "$out" "has 2 hard links" "with the reason"
tap_is "$(cat "$D/target")" precious "the linked file is unchanged"
rm -f "$PID_FILE"
rmdir "$D/run"

# --- one daemon, a second instance refused ------------------------------------
"$MILTER" -c "$D/relayguard.conf" >"$D/first.log" 2>&1
tap_is "$?" 0 "the daemon starts (detached)"
rg_retry 10 test -s "$PID_FILE" || tap_bail "no pid file: $(cat "$D/first.log")"
P1=$(cat "$PID_FILE")
rg_cleanup_add "rg_kill_pid $P1 2"
tap_like "$(tr '\0' ' ' <"/proc/$P1/cmdline" 2>/dev/null)" "relayguard-milter" \
	"the pid file names the detached daemon, not its parent"
tap_is "$(stat -c '%U %a' "$D/run")" "nobody 755" "the missing pid directory was created for nobody"
tap_is "$(stat -c '%U %a' "$PID_FILE")" "root 600" "the pid file is private (0600): nobody else can lock it"
tap_check "a local user cannot open it (to hold its lock)" \
	bash -c "! runuser -u daemon -- cat '$PID_FILE' >/dev/null 2>&1"
tap_is "$(awk '/^Uid:/ {print $2}' "/proc/$P1/status")" "$(id -u nobody)" "the daemon runs as nobody"
rg_retry 10 test -S "$SOCK" || tap_bail "no socket"
ino=$(stat -c %i "$SOCK")

out=$(start_fg); rc=$?
tap_is "$rc" 1 "a second instance with the same config is refused"
tap_like "$out" "another relayguard-milter \\(pid $P1\\) is running with PidFile $PID_FILE: refusing to start a second instance" \
	"with the first one's pid"
tap_check "the first keeps running" rg_pid_alive "$P1"
tap_is "$(cat "$PID_FILE")" "$P1" "the pid file still names the first"
tap_is "$(stat -c %i "$SOCK" 2>/dev/null)" "$ino" "the socket was not touched"
tap_like "$(python3 tests/milter/rawmilter.py --socket "unix:$SOCK" --family 4 --addr 192.0.2.9 --rcpt '<x@victim.example>' 2>&1)" \
	'RCPT <x@victim.example> reply 554' "and the first still answers on it"

kill -TERM "$P1"
rg_wait_pids_gone 15 "$P1" || tap_diag "daemon did not stop"
tap_check "the pid file is removed at exit (daemon running as nobody)" test ! -e "$PID_FILE"

# --- a lock held by another process, the pid in the file dead ----------------
"$MILTER" -c "$D/relayguard.conf" >"$D/first.log" 2>&1
rg_retry 10 test -s "$PID_FILE" || tap_bail "no pid file: $(cat "$D/first.log")"
P1=$(cat "$PID_FILE")
rg_cleanup_add "rg_kill_pid $P1 2"
( exec 9<"$PID_FILE"; flock 9; exec sleep 30 ) &
F=$!
rg_cleanup_add "rg_kill_pid $F 2"
sleep 0.3
kill -KILL "$P1"
rg_wait_pids_gone 10 "$P1"
sleep 0.3
out=$(start_fg); rc=$?
tap_is "$rc" 1 "a pid file locked by another process: the start is refused"
tap_like "$out" "PidFile $PID_FILE is locked by another process, but the pid it names \\($P1\\) is not running" \
	"and the message does not claim a dead pid is running"
rg_kill_pid "$F" 2
rm -f "$PID_FILE"
rm -f "$SOCK"

# --- a directory nobody cannot write: emptied, with a warning at start ----------
mkdir -m 0755 "$D/rootrun"
conf "$D/rootrun/m.pid"
rg_spawn "$D/third.log" "$MILTER" -f -c "$D/relayguard.conf"
P3=$RG_SPAWN_PID
rg_retry 10 test -s "$D/rootrun/m.pid" || tap_diag "no pid file: $(cat "$D/third.log")"
tap_like "$(cat "$D/third.log")" "PidFile $D/rootrun/m.pid: user nobody cannot write its directory" \
	"a root-owned pid directory: the start warns"
rg_kill_pid "$P3" 15
tap_is "$(stat -c %s "$D/rootrun/m.pid" 2>/dev/null)" 0 "and the file is emptied at exit: no stale pid"
tap_done
