# tests/lib/postfix.sh - a private, real Postfix on loopback for integration tests.
#
# Sourced (bash) by tests/integration/*.sh and scripts/demo.sh. Needs root (Postfix
# drops to the "postfix" user itself). Touches nothing outside its temp dir and
# 127.0.0.1; never uses /etc/postfix/main.cf, the system queue or syslog.
#
#   pf_start PROFILE          PROFILE "open": mynetworks = 0.0.0.0/0 (the realistic
#                             open relay of today), "closed": mynetworks =
#                             127.0.0.1/32, so a client bound to 127.0.0.2 is an
#                             outsider and gets "554 5.7.1 <rcpt>: Relay access
#                             denied". Both use smtpd_relay_restrictions =
#                             permit_mynetworks, permit_sasl_authenticated,
#                             reject_unauth_destination.
#                             Knobs (set before the call, or as a prefix:
#                             PF_SINK_MODE=reject pf_start open):
#                               PF_SINK_MODE   accept (default): the next hop
#                                              (smtp-sink, the relayhost) accepts
#                                              everything; reject: it answers every
#                                              RCPT "550 5.4.4 Host or domain name
#                                              not found", so relayed mail bounces.
#                               PF_SINK_OPTS   extra smtp-sink options (word-split).
#                               PF_LISTEN_ALL=1  smtpd on the port of every
#                                              address (with inet_interfaces =
#                                              all): 127.0.1.N reach one server
#                               PF_MAIN_EXTRA  main.cf lines ("key = value", indented
#                                              continuation lines allowed), applied
#                                              with postconf -e after the profile,
#                                              so they override it.
#                               PF_ALIASES_EXTRA  lines appended to the aliases file
#                                              (default: postmaster, abuse,
#                                              mailer-daemon, hostmaster -> root).
#                               PF_MYHOSTNAME  default mail.site.example
#                               PF_MYDOMAIN    default site.example
#                               PF_START_TIMEOUT  seconds to wait for the 220 (10)
#                             mydestination = $myhostname, localhost, $mydomain.
#                             On success it exports (and writes to $PF_DIR/pf.env):
#                               PF_DIR PF_CONF PF_LOG PF_PORT PF_HOST (127.0.0.1)
#                               PF_SINK_PORT PF_SINK_DIR (one file per message the
#                               sink accepted) PF_MAIL_DIR (maildirs: USER/new/)
#                               PF_QUEUE_DIR PF_MASTER_PID PF_SINK_PID PF_PROFILE
#                             and registers pf_stop for that instance on EXIT.
#                             On failure it prints "# " diagnostics (start output,
#                             postfix check, maillog tail) and returns 1.
#                             It connects once to check the 220 greeting, so the
#                             maillog starts with one "connect from
#                             unknown[127.0.0.1]"/"disconnect" pair.
#   pf_stop [DIR]             stop the instance (default: the current one): SIGTERM
#                             to the master (it takes its children along), wait
#                             until master, its children and smtp-sink are gone
#                             (SIGKILL by PID after 10 s), remove DIR unless
#                             RG_KEEP=1. Idempotent.
#   pf_use DIR                make another running instance the current one (several
#                             may run at once; each pf_start makes its own current).
#   pf_postconf K=V...        postconf -e, then pf_reload. Edit main.cf only through
#                             it (or call pf__cool_main_cf after editing): Postfix
#                             stalls up to 2 s reading a main.cf modified < 2 s ago.
#   pf_reload                 postfix reload, and wait until the old generation of
#                             daemons has exited, so the next connection surely
#                             gets the new configuration (an smtpd still serving
#                             an open session makes it wait, at most 5 s).
#   pf_swaks ARGS...          swaks --server $PF_HOST --port $PF_PORT ARGS...
#   pf_sendmail ARGS...       Postfix sendmail(1) of this instance (reads stdin).
#   pf_flush                  postqueue -f (retry deferred mail now).
#   pf_sink_count             messages the sink accepted.
#   pf_queue_count            messages in the queue (incoming, active, deferred,
#                             hold, maildrop).
#   pf_mailbox_count USER     messages delivered locally to USER (postmaster, abuse
#                             etc. are aliases of root: count "root").
#   pf_log_grep REGEX         grep -E the maillog (prints lines, grep's status).
#   pf_log_count REGEX        number of matching maillog lines.
#   pf_wait_sink_count N [SECS]       wait until pf_sink_count >= N   (default 10 s)
#   pf_wait_mailbox_count USER N [SECS]
#   pf_wait_log REGEX [SECS]          wait until the maillog has a matching line
#   pf_wait_queue_empty [SECS]        each returns 1 on timeout.
#
# Not changed from Postfix defaults, on purpose: smtpd_soft_error_limit = 10 and
# smtpd_error_sleep_time = 1s (each error reply after the 10th in a session waits
# 1 s), smtpd_hard_error_limit = 20 (then "421 4.7.0 Error: too many errors"): a
# relay battery that collects many rejected RCPTs in one session meets them.
# Changed for speed: queue_run_delay, minimal_backoff_time = 2s, maximal 10s.
#
# Learned here: the master and smtp-sink bind with SO_REUSEPORT (two instances on
# one port both start and share connections: ports come from rg_free_port's
# reservations and pf_start checks that it alone listens); master startup errors
# go to syslog only, which does not exist here; orphans are reaped lazily by PID 1,
# so a dead daemon lingers as a zombie (rg_pid_alive treats zombies as gone).

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -n "${RG_POSTFIX_SH_LOADED:-}" ] && return 0
RG_POSTFIX_SH_LOADED=1

PF_DAEMON_DIR=$(postconf -dh daemon_directory 2>/dev/null)
PF_DAEMON_DIR=${PF_DAEMON_DIR:-/usr/lib/postfix/sbin}
PF_MASTER_CF_DIST=${PF_MASTER_CF_DIST:-/usr/share/postfix/master.cf.dist}

# --- building an instance ---------------------------------------------------

pf__write_master_cf() {	# master.cf.dist without the pipe(8) examples that
	# name users we do not have; smtpd on our loopback port only.
	# PF_LISTEN_ALL=1 (with inet_interfaces = all in PF_MAIN_EXTRA): the
	# port on every address, so 127.0.1.N all reach this one server
	local addr=127.0.0.1:
	[ "${PF_LISTEN_ALL:-0}" = 1 ] && addr=
	awk -v port="$PF_PORT" -v addr="$addr" '
		/^smtp[ \t]+inet[ \t]/ { print addr port " inet n - n - - smtpd"; next }
		/^maildrop[ \t]/ { exit }
		{ print }
	' "$PF_MASTER_CF_DIST" >"$PF_CONF/master.cf"
}

pf__write_main_cf() {	# PROFILE
	local mynetworks
	case $1 in
	open) mynetworks=0.0.0.0/0 ;;
	closed) mynetworks=127.0.0.1/32 ;;
	esac
	cat >"$PF_CONF/main.cf" <<EOF
# Private relayguard test instance, profile "$1" (tests/lib/postfix.sh).
compatibility_level = 3.6
queue_directory = $PF_QUEUE_DIR
data_directory = $PF_DIR/data
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR
myhostname = $PF_MYHOSTNAME
mydomain = $PF_MYDOMAIN
myorigin = \$myhostname
mydestination = \$myhostname, localhost, \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = $mynetworks
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
relayhost = [127.0.0.1]:$PF_SINK_PORT
# No DNS here: every lookup would hang until its timeout.
smtpd_peername_lookup = no
disable_dns_lookups = yes
# Local delivery into maildirs inside the temp dir (trailing slash = maildir).
alias_maps = hash:$PF_CONF/aliases
alias_database = hash:$PF_CONF/aliases
mail_spool_directory = $PF_MAIL_DIR/
biff = no
# Fast retries, so a test that defers mail does not wait minutes.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
EOF
}

# Postfix re-reads main.cf every 300 ms until its mtime is 2 s old (so it never
# reads a half-written file): every postconf/postfix command and daemon started
# within 2 s of an edit stalls up to 2 s. Back-date the file after each edit.
pf__cool_main_cf() {
	touch -d "@$(($(date +%s) - 10))" "$PF_CONF/main.cf"
}

pf__apply_main_extra() {	# applies $PF_MAIN_EXTRA with postconf -e
	local line entry='' out
	local -a entries=()
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'' | '#'*) continue ;;
		[[:space:]]*) [ -n "$entry" ] && entry="$entry ${line#"${line%%[![:space:]]*}"}" ;;
		*)
			[ -n "$entry" ] && entries+=("$entry")
			entry=$line
			;;
		esac
	done <<<"${PF_MAIN_EXTRA:-}"
	[ -n "$entry" ] && entries+=("$entry")
	[ ${#entries[@]} -gt 0 ] || return 0
	if ! out=$(postconf -c "$PF_CONF" -e "${entries[@]}" 2>&1); then
		rg_diag "pf_start: PF_MAIN_EXTRA rejected by postconf: $out"
		return 1
	fi
	pf__cool_main_cf
}

pf__write_aliases() {
	cat >"$PF_CONF/aliases" <<EOF
postmaster: root
mailer-daemon: postmaster
abuse: postmaster
hostmaster: root
${PF_ALIASES_EXTRA:-}
EOF
	postalias -c "$PF_CONF" "$PF_CONF/aliases"
}

pf__start_sink() {
	local -a args=(-u postfix -d "$PF_SINK_DIR/%Y%m%d%H/%M.")
	case ${PF_SINK_MODE:-accept} in
	accept) ;;
	reject) args+=(-f rcpt -B "550 5.4.4 Host or domain name not found") ;;
	*)
		rg_diag "pf_start: PF_SINK_MODE must be accept or reject, not '$PF_SINK_MODE'"
		return 1
		;;
	esac
	# shellcheck disable=SC2206
	[ -n "${PF_SINK_OPTS:-}" ] && args+=($PF_SINK_OPTS)
	# Started from a subshell, so it is not our child: a bare "wait" in a test
	# would otherwise block on it forever.
	(
		smtp-sink "${args[@]}" "127.0.0.1:$PF_SINK_PORT" 100 \
			>"$PF_DIR/sink.log" 2>&1 </dev/null &
		echo $! >"$PF_DIR/sink.pid"
	)
	PF_SINK_PID=$(cat "$PF_DIR/sink.pid")
	if ! rg_wait_port 127.0.0.1 "$PF_SINK_PORT" 5; then
		rg_diag "pf_start: smtp-sink did not listen on 127.0.0.1:$PF_SINK_PORT"
		rg_diag "$(cat "$PF_DIR/sink.log" 2>/dev/null)"
		return 1
	fi
}

pf__master_pid() {	# DIR: the master's PID, only if it really is that master
	local dir=$1 pid cwd
	pid=$(tr -dc '0-9' 2>/dev/null <"$dir/spool/pid/master.pid")
	[ -n "$pid" ] || return 1
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
	[ "$cwd" = "$dir/spool" ] || return 1
	echo "$pid"
}

pf__children() {	# PID: its child PIDs
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true
}

pf__start_failed() {
	rg_diag "pf_start: $*"
	rg_diag "--- postfix start output:"
	rg_diag "$(cat "$PF_DIR/start.log" 2>/dev/null)"
	rg_diag "--- postfix check (the master's own startup errors go to syslog, absent here):"
	rg_diag "$(script -qec "postfix -c '$PF_CONF' check" /dev/null 2>&1 | tr -d '\r')"
	rg_diag "--- $PF_LOG (tail):"
	rg_diag "$(tail -n 20 "$PF_LOG" 2>/dev/null)"
	return 1
}

pf__write_env() {
	local v
	{
		for v in PF_DIR PF_CONF PF_LOG PF_HOST PF_PORT PF_SINK_PORT PF_SINK_DIR \
			PF_MAIL_DIR PF_QUEUE_DIR PF_MASTER_PID PF_SINK_PID PF_PROFILE \
			PF_MYHOSTNAME PF_MYDOMAIN; do
			printf 'export %s=%q\n' "$v" "${!v}"
		done
	} >"$PF_DIR/pf.env"
}

pf_start() {
	local profile=${1:-} deadline banner listeners out
	case $profile in
	open | closed) ;;
	*)
		rg_diag "pf_start: PROFILE must be open or closed, not '$profile'"
		return 1
		;;
	esac
	PF_PROFILE=$profile
	PF_MYHOSTNAME=${PF_MYHOSTNAME:-mail.site.example}
	PF_MYDOMAIN=${PF_MYDOMAIN:-site.example}
	PF_HOST=127.0.0.1
	PF_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-postfix.XXXXXX") || return 1
	chmod 755 "$PF_DIR"
	: >"$PF_DIR/.rg-postfix"
	rg_cleanup_add "pf_stop '$PF_DIR'"
	PF_CONF=$PF_DIR/etc
	PF_QUEUE_DIR=$PF_DIR/spool
	PF_MAIL_DIR=$PF_DIR/mail
	PF_SINK_DIR=$PF_DIR/sink
	PF_LOG=$PF_DIR/maillog
	PF_MASTER_PID=
	PF_SINK_PID=
	mkdir -p "$PF_CONF" "$PF_QUEUE_DIR" "$PF_DIR/data" "$PF_MAIL_DIR" "$PF_SINK_DIR"
	chown postfix:postfix "$PF_DIR/data" "$PF_SINK_DIR"
	chmod 1777 "$PF_MAIL_DIR"
	PF_PORT=$(rg_free_port tcp) || return 1
	PF_SINK_PORT=$(rg_free_port tcp) || return 1
	export PF_DIR PF_CONF PF_LOG PF_HOST PF_PORT PF_SINK_PORT PF_SINK_DIR PF_MAIL_DIR \
		PF_QUEUE_DIR PF_MASTER_PID PF_SINK_PID PF_PROFILE PF_MYHOSTNAME PF_MYDOMAIN

	pf__write_master_cf || return 1
	pf__write_main_cf "$profile" || return 1
	pf__cool_main_cf
	postconf -c "$PF_CONF" -F '*/*/chroot = n' || return 1
	pf__apply_main_extra || return 1
	pf__write_aliases || return 1
	# Surface main.cf mistakes (unused parameters, bad syntax) as diagnostics.
	out=$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null) || true
	[ -n "$out" ] && rg_diag "$out"

	pf__start_sink || return 1

	if ! postfix -c "$PF_CONF" start >"$PF_DIR/start.log" 2>&1; then
		pf__start_failed "postfix start failed"
		return 1
	fi
	PF_MASTER_PID=$(pf__master_pid "$PF_DIR") || {
		pf__start_failed "no running master after postfix start"
		return 1
	}
	deadline=$(($(rg_now_ms) + ${PF_START_TIMEOUT:-10} * 1000))
	while :; do
		banner=$(rg_smtp_banner 127.0.0.1 "$PF_PORT" 2) || true
		case $banner in 220*) break ;; esac
		if [ "$(rg_now_ms)" -ge "$deadline" ]; then
			pf__start_failed "smtpd on 127.0.0.1:$PF_PORT gave no 220 within" \
				"${PF_START_TIMEOUT:-10}s (got: '${banner}')"
			return 1
		fi
		sleep 0.05
	done
	# SO_REUSEPORT: make sure nobody else shares our port.
	listeners=$(ss -Hltnp "sport = :$PF_PORT" 2>/dev/null | grep -v "pid=$PF_MASTER_PID,") || true
	if [ -n "$listeners" ]; then
		pf__start_failed "another process listens on port $PF_PORT too: $listeners"
		return 1
	fi
	pf__write_env
	return 0
}

# --- stopping -----------------------------------------------------------------

pf_stop() {
	local dir=${1:-${PF_DIR:-}} master sink kids pid left=
	[ -n "$dir" ] && [ -e "$dir/.rg-postfix" ] || return 0
	[ -e "$dir/.stopped" ] && return 0
	if master=$(pf__master_pid "$dir"); then
		kids=$(pf__children "$master")
		kill -TERM "$master" 2>/dev/null || true
		# shellcheck disable=SC2086
		if ! rg_wait_pids_gone 10 "$master" $kids; then
			for pid in $master $kids; do
				rg_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null && left="$left $pid"
			done
			rg_diag "pf_stop: had to SIGKILL$left"
			# shellcheck disable=SC2086
			rg_wait_pids_gone 2 $master $kids || true
		fi
	fi
	sink=$(cat "$dir/sink.pid" 2>/dev/null) || true
	[ -n "$sink" ] && rg_kill_pid "$sink" 5
	: >"$dir/.stopped"
	if [ "${RG_KEEP:-0}" = 1 ]; then
		rg_diag "pf_stop: kept $dir (RG_KEEP=1)"
	else
		rm -rf "$dir"
	fi
	return 0
}

pf_use() {
	[ -r "$1/pf.env" ] || {
		rg_diag "pf_use: no instance in $1"
		return 1
	}
	# shellcheck disable=SC1091
	. "$1/pf.env"
}

# --- operating it -------------------------------------------------------------

pf_reload() {
	local old pid wait_for=
	old=$(pf__children "$PF_MASTER_PID")
	postfix -c "$PF_CONF" reload >>"$PF_DIR/start.log" 2>&1 || return 1
	# Old smtpd processes may still accept on the shared socket until they exit.
	for pid in $old; do
		wait_for="$wait_for $pid"
	done
	# shellcheck disable=SC2086
	rg_wait_pids_gone 5 $wait_for || rg_diag "pf_reload: old daemons still running after 5s"
	return 0
}

pf_postconf() {
	local out
	if ! out=$(postconf -c "$PF_CONF" -e "$@" 2>&1); then
		rg_diag "pf_postconf: $out"
		return 1
	fi
	pf__cool_main_cf
	pf_reload
}

pf_swaks() {
	swaks --server "$PF_HOST" --port "$PF_PORT" --timeout 10 "$@"
}

pf_sendmail() {
	sendmail -C "$PF_CONF" "$@"
}

pf_flush() {
	postqueue -c "$PF_CONF" -f
}

pf__count_files() {
	local n
	n=$(find "$@" -type f 2>/dev/null | wc -l) || true
	echo $((n))
}

pf_sink_count() {
	pf__count_files "$PF_SINK_DIR"
}

pf_queue_count() {
	local q=$PF_QUEUE_DIR
	pf__count_files "$q/incoming" "$q/active" "$q/deferred" "$q/hold" "$q/maildrop"
}

pf_mailbox_count() {
	pf__count_files "$PF_MAIL_DIR/$1/new" "$PF_MAIL_DIR/$1/cur"
}

pf_log_grep() {
	grep -E -- "$1" "$PF_LOG"
}

pf_log_count() {
	local n
	n=$(grep -cE -- "$1" "$PF_LOG" 2>/dev/null) || true
	echo $((n))
}

pf__ge() {	# CMD... N: true when CMD's output >= N
	local want=${*: -1} got
	got=$("${@:1:$#-1}")
	[ "$got" -ge "$want" ]
}

pf_wait_sink_count() {
	rg_retry "${2:-10}" pf__ge pf_sink_count "$1"
}

pf_wait_mailbox_count() {
	rg_retry "${3:-10}" pf__ge pf_mailbox_count "$1" "$2"
}

pf_wait_log() {
	rg_retry "${2:-10}" pf__log_has "$1"
}

pf__log_has() {
	grep -qE -- "$1" "$PF_LOG" 2>/dev/null
}

pf__queue_empty() {
	[ "$(pf_queue_count)" -eq 0 ]
}

pf_wait_queue_empty() {
	rg_retry "${1:-10}" pf__queue_empty
}
