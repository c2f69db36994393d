# tests/milter/lib.sh - start/stop relayguard-milter for the 2xx_milter_*
# integration scripts (bash; source after tests/lib/common.sh).
#
#   ml_start "EXTRA CONFIG LINES"   write $ML_DIR/relayguard.conf (unix socket
#                                   $ML_SOCK, event log $ML_DIR/events.jsonl,
#                                   TrustedNetworks 127.0.0.1/32, the test
#                                   Postfix's local domains) and start the
#                                   milter in the foreground; sets ML_PID.
#   ml_stop                         SIGTERM, wait for libmilter's orderly stop.
#   ml_event_count EVENT            lines of that event in the event log.
#   ml_miltertest SCRIPT [TAG]      run a miltertest(8) Lua script against the
#                                   milter (RG_MILTER_SOCKET; RG_CASE=TAG) and
#                                   re-emit its "ok"/"not ok" lines as checks,
#                                   then one check that it exited 0.

MILTER=${MILTER:-${BUILD:-build}/relayguard-milter}

ml_start() {
	ML_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-milter.XXXXXX") || return 1
	chmod 755 "$ML_DIR"	# Postfix's smtpd (user postfix) reaches the socket
	[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$ML_DIR'"
	ML_SOCK=$ML_DIR/milter.sock
	cat >"$ML_DIR/relayguard.conf" <<EOF
Socket unix:$ML_SOCK
SocketMode 0666
EventLog $ML_DIR/events.jsonl
TrustedNetworks 127.0.0.1/32
LocalDomains mail.site.example, site.example, localhost
SummaryInterval 10
$1
EOF
	rg_spawn "$ML_DIR/milter.log" "$MILTER" -f -c "$ML_DIR/relayguard.conf"
	ML_PID=$RG_SPAWN_PID
	rg_retry 5 test -S "$ML_SOCK" &&
		rg_retry 5 grep -q "starting:" "$ML_DIR/milter.log"	# slow builds (TSan)
}

ml_stop() {
	[ -n "${ML_PID:-}" ] || return 0
	kill -TERM "$ML_PID" 2>/dev/null
	# libmilter's orderly stop notices within its 5 s listener timeout
	rg_wait_pids_gone 15 "$ML_PID" || kill -KILL "$ML_PID" 2>/dev/null
	wait "$ML_PID" 2>/dev/null
	ML_PID=
}

ml_event_count() {
	local n
	n=$(jq -c --arg e "$1" 'select(.event == $e)' "$ML_DIR/events.jsonl" 2>/dev/null | wc -l)
	echo $((n))
}

ml_miltertest() {
	local out rc line
	out=$(RG_MILTER_SOCKET="unix:$ML_SOCK" RG_CASE=${2:-} timeout 60 \
		miltertest -s "$1" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) tap_ok "miltertest: ${line#ok * - }" ;;
		"not ok "*) tap_fail "miltertest: ${line#not ok * - }" ;;
		esac
	done <<<"$out"
	tap_is "$rc" 0 "miltertest ${1##*/}${2:+ ($2)} exits 0" || tap_diag "$out"
}
