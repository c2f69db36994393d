# shellcheck shell=bash disable=SC2034
# tests/lib/opensmtpd.sh - a private, real OpenSMTPD 6.8 (Debian's opensmtpd,
# unpacked by scripts/mta-unpack.sh) on loopback: mta_start opensmtpd PROFILE.
# The common interface is documented in tests/lib/mta.sh.
#
# $MTA_CONF is an smtpd.conf in the layout of Debian's default one (table
# aliases, actions named "local" and "relay", "match for local action
# "local"", "match from local for any action "relay""), with the one change
# Debian's comment asks for to accept outside mail (listen on the address,
# "match from any for domain ... action "local""). Changed for the harness:
# listen on 127.0.0.1 port $MTA_PORT with hostname mail.site.example; the
# "relay" action relays through the sink (relay host smtp://127.0.0.3:PORT);
# "local" writes maildirs under $MTA_MAIL_DIR/RECIPIENT as user "mail"
# (smtpd refuses to deliver as root: "not allowed to deliver to: root").
# smtpd runs in the foreground (-d), its log is its stderr ($MTA_LOG). Its
# spool (/var/spool/smtpd), control socket (/run/smtpd.sock) and delivery
# helpers (/usr/libexec/opensmtpd/mail.*) are compiled in: in its namespace
# they are the instance's own directories and the unpacked tree's. Its processes run as opensmtpd/opensmtpq,
# chrooted into /var/lib/opensmtpd/empty (make deps creates them as the
# package's postinst would).
# Profiles:
#   closed  as above: relays only "from local" (the host itself)
#   open    match from any for any action "relay"
#   sender  match from any mail-from "@site.example" for any action "relay"
#   helo    match from any helo "mail.site.example" for any action "relay"
# MTA_EXTRA: smtpd.conf lines inserted before the match rules.

. "$(dirname "${BASH_SOURCE[0]}")/mta.sh"

OS_TREE=$RG_MTA_DIR/opensmtpd
OS_BIN=$OS_TREE/usr/sbin/smtpd

opensmtpd__ns() {	# CMD...: in the instance's namespace (spool, control socket)
	MTA_NS_TMPFS=/var/spool MTA_NS_BIND="$MTA_DIR/spool=/var/spool/smtpd $MTA_DIR/run=/run $OS_TREE/usr/libexec=/usr/libexec" \
		mta__ns "$@"
}

opensmtpd__check_profile() {
	case $1 in
	closed | open | sender | helo) return 0 ;;
	esac
	rg_diag "mta_start opensmtpd: PROFILE must be closed, open, sender or helo, not '$1'"
	return 1
}

opensmtpd__setup() {
	local d=$MTA_DIR hole='' u
	MTA_CONF=$d/etc/smtpd.conf
	MTA_VERSION="OpenSMTPD $(sed -n 's/.*opensmtpd=\([^ ]*\).*/\1/p' "$OS_TREE/.stamp")"
	for u in opensmtpd opensmtpq; do
		if ! getent passwd "$u" >/dev/null; then
			rg_diag "opensmtpd: no $u user (run make deps: scripts/mta-unpack.sh creates it)"
			return 1
		fi
	done
	if [ ! -d /var/lib/opensmtpd/empty ]; then
		rg_diag "opensmtpd: no chroot directory /var/lib/opensmtpd/empty (run make deps)"
		return 1
	fi
	mkdir -p "$d/run"
	chmod 711 "$d/spool"
	case $MTA_PROFILE in
	open) hole='match from any for any action "relay"' ;;
	sender) hole="match from any mail-from \"@$MTA_DOMAIN\" for any action \"relay\"" ;;
	helo) hole="match from any helo \"$MTA_HOSTNAME\" for any action \"relay\"" ;;
	esac
	cat >"$MTA_CONF" <<EOF
# Private relayguard test instance, profile "$MTA_PROFILE" (tests/lib/opensmtpd.sh),
# laid out as Debian's default /etc/smtpd.conf.

table aliases file:$d/etc/aliases

listen on 127.0.0.1 port $MTA_PORT hostname $MTA_HOSTNAME

action "local" maildir "$MTA_MAIL_DIR/%{user.username}" alias <aliases> user "mail"
action "relay" relay host smtp://$MTA_SINK_HOST:$MTA_SINK_PORT

${MTA_EXTRA:-}
match from any for domain "$MTA_DOMAIN" action "local"
match from any for domain "$MTA_HOSTNAME" action "local"
match for local action "local"
match from local for any action "relay"
$hole
EOF
	cat >"$d/etc/aliases" <<EOF
postmaster: root
mailer-daemon: postmaster
abuse: postmaster
hostmaster: root
EOF
	opensmtpd__rebuild
}

opensmtpd__rebuild() {
	local out
	if ! out=$(opensmtpd__ns "$OS_BIN" -n -f "$MTA_CONF" 2>&1); then
		rg_diag "opensmtpd: smtpd -n: $out"
		return 1
	fi
}

opensmtpd__launch() {
	# Foreground (-d): the PID is ours, the log its stderr. Started from a
	# subshell so a bare "wait" in a test does not wait for it.
	(
		MTA_NS_EXEC=1 opensmtpd__ns "$OS_BIN" -d -f "$MTA_CONF" >>"$MTA_LOG" 2>&1 </dev/null &
		echo $! >"$MTA_DIR/smtpd.pid"
	)
	MTA_PID=$(cat "$MTA_DIR/smtpd.pid")
	rg_retry 10 rg__listening_on "$MTA_HOST" "$MTA_PORT" tcp
}

opensmtpd__queue_count() {
	local n
	n=$(find "$MTA_DIR/spool/queue" "$MTA_DIR/spool/incoming" -type f 2>/dev/null | wc -l) || true
	echo $((n))
}

opensmtpd__flush() {
	opensmtpd__ns "$OS_TREE/usr/sbin/smtpctl" schedule all >/dev/null 2>&1
}
