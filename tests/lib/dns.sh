# tests/lib/dns.sh - a real authoritative DNS server (NSD) on loopback for tests.
#
# Sourced (bash) by tests/integration/4[0-9][0-9]_dns_*.sh. Touches nothing outside its
# temp dir and 127.0.0.1; the zones are the project's own test zones
# (tests/dns/*.zone: reserved *.test names, documentation and loopback
# addresses). Nothing here ever queries a nameserver outside loopback.
#
#   dns_start ZONEFILE...     start NSD on 127.0.0.1 on a free port (UDP and TCP)
#                             serving each ZONEFILE; the zone's name is taken from
#                             its $ORIGIN line. Exports DNS_PORT, DNS_NS
#                             (127.0.0.1:PORT, the form --nameserver takes),
#                             DNS_DIR, DNS_PID; registers dns_stop on EXIT.
#                             Waits until the server answers a SOA query for the
#                             first zone (ldns' drill against 127.0.0.1 only).
#                             Status 1 with "# " diagnostics on failure.
#   dns_stop                  stop the server by PID, remove its dir (RG_KEEP=1
#                             keeps it). Idempotent.
#   dns_blackhole             bind a UDP port on 127.0.0.1 that reads nothing and
#                             answers nothing (a dead DNS server); exports
#                             DNS_BLACKHOLE_PORT and DNS_BLACKHOLE (127.0.0.1:PORT)
#                             and registers its stop. A TCP connect to the same
#                             port is refused (nothing listens on TCP).
#   dns_dig NAME TYPE         drill @127.0.0.1 -p $DNS_PORT NAME TYPE (answers only).

[ -n "${RG_DNS_SH_LOADED:-}" ] && return 0
RG_DNS_SH_LOADED=1

_dns_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$_dns_lib_dir/common.sh"

dns__origin() {	# ZONEFILE -> zone name without the trailing dot
	sed -n 's/^\$ORIGIN[[:space:]]\{1,\}\([^[:space:]]*\)\..*/\1/p' "$1" | head -n 1
}

dns_start() {
	local z origin first= deadline
	[ $# -gt 0 ] || { rg_diag "dns_start: no zone files"; return 1; }
	command -v nsd >/dev/null || { rg_diag "dns_start: nsd is not installed (make deps)"; return 1; }
	DNS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-dns.XXXXXX") || return 1
	rg_cleanup_add "dns_stop '$DNS_DIR'"
	DNS_PORT=$(rg_free_port both) || return 1
	DNS_NS=127.0.0.1:$DNS_PORT
	{
		echo "server:"
		echo "	ip-address: 127.0.0.1@$DNS_PORT"
		echo "	do-ip4: yes"
		echo "	do-ip6: no"
		echo "	username: \"\""
		echo "	chroot: \"\""
		echo "	zonesdir: \"$DNS_DIR\""
		echo "	pidfile: \"$DNS_DIR/nsd.pid\""
		echo "	xfrdfile: \"$DNS_DIR/xfrd.state\""
		echo "	zonelistfile: \"$DNS_DIR/zone.list\""
		echo "	database: \"\""
		echo "	logfile: \"$DNS_DIR/nsd.log\""
		echo "	server-count: 1"
		echo "	verbosity: 1"
		echo "	hide-version: yes"
		echo "	refuse-any: yes"
		echo "remote-control:"
		echo "	control-enable: no"
	} >"$DNS_DIR/nsd.conf"
	for z in "$@"; do
		origin=$(dns__origin "$z")
		[ -n "$origin" ] || { rg_diag "dns_start: $z has no \$ORIGIN line"; return 1; }
		cp "$z" "$DNS_DIR/$origin.zone" || return 1
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' "$origin" "$DNS_DIR/$origin.zone" \
			>>"$DNS_DIR/nsd.conf"
		[ -n "$first" ] || first=$origin
	done
	if ! nsd-checkconf "$DNS_DIR/nsd.conf" >"$DNS_DIR/check.log" 2>&1; then
		rg_diag "dns_start: nsd-checkconf: $(cat "$DNS_DIR/check.log")"
		return 1
	fi
	rg_spawn "$DNS_DIR/stdout.log" nsd -d -c "$DNS_DIR/nsd.conf"
	DNS_PID=$RG_SPAWN_PID
	echo "$DNS_PID" >"$DNS_DIR/pid"
	export DNS_PORT DNS_NS DNS_DIR DNS_PID
	deadline=$(($(rg_now_ms) + 10000))
	until drill -Q -p "$DNS_PORT" @127.0.0.1 "$first" SOA 2>/dev/null | grep -q .; do
		if ! rg_pid_alive "$DNS_PID" || [ "$(rg_now_ms)" -ge "$deadline" ]; then
			rg_diag "dns_start: nsd did not answer on 127.0.0.1:$DNS_PORT"
			rg_diag "$(tail -n 20 "$DNS_DIR/nsd.log" "$DNS_DIR/stdout.log" 2>/dev/null)"
			return 1
		fi
		sleep 0.05
	done
	return 0
}

dns_stop() {
	local dir=${1:-${DNS_DIR:-}} pid
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	[ -e "$dir/.stopped" ] && return 0
	pid=$(cat "$dir/pid" 2>/dev/null)
	# nsd -d keeps a main process and one server child: stop the main one by
	# PID (it takes its child along), then make sure the child is gone too.
	if [ -n "$pid" ]; then
		local kids
		kids=$(pgrep -P "$pid" 2>/dev/null)
		rg_kill_pid "$pid" 5
		# shellcheck disable=SC2086
		[ -z "$kids" ] || rg_wait_pids_gone 5 $kids || {
			for k in $kids; do kill -KILL "$k" 2>/dev/null; done
		}
	fi
	: >"$dir/.stopped"
	if [ "${RG_KEEP:-0}" = 1 ]; then
		rg_diag "dns_stop: kept $dir (RG_KEEP=1)"
	else
		rm -rf "$dir"
	fi
	return 0
}

dns_blackhole() {
	DNS_BLACKHOLE_PORT=$(rg_free_port both) || return 1
	DNS_BLACKHOLE=127.0.0.1:$DNS_BLACKHOLE_PORT
	# A bound UDP socket that is never read: queries vanish, no ICMP error.
	rg_spawn /dev/null perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
		    Proto => "udp") or die "bind: $!";
		sleep 1 while 1;' "$DNS_BLACKHOLE_PORT"
	DNS_BLACKHOLE_PID=$RG_SPAWN_PID
	export DNS_BLACKHOLE_PORT DNS_BLACKHOLE DNS_BLACKHOLE_PID
	rg_wait_port 127.0.0.1 "$DNS_BLACKHOLE_PORT" 5 udp
}

dns_dig() {
	drill -Q -p "$DNS_PORT" @127.0.0.1 "$1" "$2"
}
