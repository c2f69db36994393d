#!/bin/bash
# The daemon's start status is true (review 1, item 5): "relayguard-milter"
# without -f detaches, and its parent (what an init script or systemd's
# Type=forking sees) exits only once the daemon is ready. Before the fix the
# parent exited 0 before the event log and the metrics listener were opened:
# a daemon that died right after (UserID nobody and an EventLog in a
# root-only directory; MetricsListen on the Socket's port) was reported as
# started, its reason only in syslog. Now the start exits 1 with the reason
# on stderr, and a good start still exits 0 with the daemon running.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1

rg_built "$MILTER"
[ "$(id -u)" = 0 ] || { tap_skip "start status" "needs root"; tap_done; exit; }
getent passwd nobody >/dev/null || { tap_skip "start status" "no user nobody"; tap_done; exit; }

D=$(mktemp -d "${TMPDIR:-/tmp}/rg-mstart.XXXXXX") || tap_bail "mktemp"
chmod 755 "$D"
rg_cleanup_add "rm -rf '$D'"
mkdir -m 0700 "$D/rootonly"
PORT=$(rg_free_port) || tap_bail "no free port"
conf() {	# EXTRA-LINES
	printf 'Socket inet:%s@127.0.0.1\nUserID nobody\nLocalDomains site.example\nPidFile %s/run/m.pid\n%s\n' \
		"$PORT" "$D" "$1" >"$D/m.conf"
	chmod 644 "$D/m.conf"
}
start() { out=$(timeout 20 "$MILTER" -c "$D/m.conf" 2>&1); rc=$?; }

conf "EventLog $D/rootonly/events.jsonl"
tap_is "$("$MILTER" -t -c "$D/m.conf" >/dev/null 2>&1; echo $?)" 0 "-t accepts the config (the directory is only checked at start)"
start
tap_is "$rc" 1 "UserID nobody, EventLog in a root-only directory: the start exits 1"
tap_like "$out" "fatal: .*$D/rootonly/events.jsonl.*Permission denied" "with the reason on stderr"
tap_check "and no daemon is left" bash -c "! test -s '$D/run/m.pid' || ! kill -0 \$(cat '$D/run/m.pid') 2>/dev/null"

conf "MetricsListen 127.0.0.1:$PORT"
start
tap_is "$rc" 1 "MetricsListen on the Socket's port: the start exits 1"
tap_like "$out" "fatal: .*127.0.0.1:$PORT" "with the reason on stderr"

conf ""
start
tap_is "$rc" 0 "a good config: the start exits 0"
rg_retry 5 test -s "$D/run/m.pid"
P=$(cat "$D/run/m.pid" 2>/dev/null)
rg_cleanup_add "rg_kill_pid $P 2"
tap_check "and the daemon is running" rg_pid_alive "$P"
tap_check "and answers on its socket" rg_wait_port 127.0.0.1 "$PORT" 2
tap_unlike "$out" "fatal|error" "no error on the way"
rg_kill_pid "$P" 15
tap_done
