# tests/lib/fail2ban.sh - a private fail2ban-server with relayguard's shipped
# filter and jails (packaging/fail2ban/), for tests and the demo (bash; source
# after tests/lib/common.sh). Run it only inside a network namespace of your
# own (unshare --net): its nftables bans must never reach the host.
#
#   f2b_start JAIL LOGPATH PORT [JAIL LINES]
#                       Debian's /etc/fail2ban with only the shipped jails,
#                       JAIL enabled on LOGPATH and PORT (polling backend,
#                       nothing ignored unless JAIL LINES say "ignoreip = ..."),
#                       started in the foreground; sets F2B_DIR, F2B_PID.
#   f2b CMD...          fail2ban-client on that server
#   f2b_banned          the addresses JAIL bans now, one line
#   f2b_is_banned ADDR  status 0 when ADDR is banned
#   f2b_stop            stop it and wait for it (by PID)

f2b_start() {
	local jail=$1 logpath=$2 port=$3 extra=${4:-}
	F2B_JAIL=$jail
	F2B_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-f2b.XXXXXX") || return 1
	[ "${RG_KEEP:-0}" = 1 ] || rg_cleanup_add "rm -rf '$F2B_DIR'"
	cp -r /etc/fail2ban "$F2B_DIR/etc" || return 1
	rm -f "$F2B_DIR"/etc/jail.d/*
	cp packaging/fail2ban/filter.d/relayguard.conf "$F2B_DIR/etc/filter.d/" &&
		cp packaging/fail2ban/jail.d/relayguard.conf "$F2B_DIR/etc/jail.d/" || return 1
	cat >"$F2B_DIR/etc/fail2ban.local" <<EOF
[DEFAULT]
logtarget = $F2B_DIR/fail2ban.log
socket = $F2B_DIR/f2b.sock
pidfile = $F2B_DIR/f2b.pid
dbfile = :memory:
EOF
	# what an admin writes in jail.d/relayguard.local
	cat >"$F2B_DIR/etc/jail.d/relayguard.local" <<EOF
[DEFAULT]
ignoreself = false
ignoreip =

[$jail]
enabled  = true
logpath  = $logpath
backend  = polling
port     = $port
$extra
EOF
	# the shipped jail ignores loopback, where the tests' clients are
	grep -q '^ignoreip' <<<"$extra" || echo "ignoreip =" >>"$F2B_DIR/etc/jail.d/relayguard.local"
	[ -e "$logpath" ] || : >"$logpath"
	rg_spawn "$F2B_DIR/server.out" fail2ban-client -c "$F2B_DIR/etc" \
		-s "$F2B_DIR/f2b.sock" -p "$F2B_DIR/f2b.pid" -x -f start
	F2B_PID=$RG_SPAWN_PID
	rg_retry 30 f2b ping >/dev/null 2>&1 && rg_retry 15 f2b status "$jail" >/dev/null 2>&1 || {
		rg_diag "fail2ban did not start: $(tail -5 "$F2B_DIR/server.out" "$F2B_DIR/fail2ban.log" 2>/dev/null)"
		return 1
	}
}

f2b() { fail2ban-client -c "$F2B_DIR/etc" -s "$F2B_DIR/f2b.sock" "$@"; }
f2b_banned() { f2b get "$F2B_JAIL" banned 2>/dev/null; }
f2b_is_banned() { f2b_banned | grep -qF "'$1'"; }

f2b_stop() {
	[ -n "${F2B_PID:-}" ] || return 0
	f2b stop >/dev/null 2>&1
	rg_wait_pids_gone 15 "$F2B_PID" || rg_kill_pid "$F2B_PID"
	F2B_PID=
}
