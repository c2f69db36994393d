# shellcheck shell=bash disable=SC2034
# tests/lib/sendmail.sh - a private, real sendmail 8.17 (Debian's sendmail-bin,
# unpacked by scripts/mta-unpack.sh) on loopback: mta_start sendmail PROFILE.
# The common interface is documented in tests/lib/mta.sh.
#
# The .cf is built with m4 from the unpacked sendmail-cf (cf/m4/cf.m4,
# OSTYPE(linux)) out of $MTA_DIR/etc/sendmail.mc = $MTA_CONF, the file an
# admin edits; mta_restart rebuilds it (m4, makemap for the access db,
# sendmail -bi for the aliases). Common to every profile:
#   - confDOMAIN_NAME mail.site.example, class w from local-host-names
#     (mail.site.example, site.example, localhost);
#   - DAEMON_OPTIONS on 127.0.0.1:$MTA_PORT only, no MSA (no_default_msa);
#   - confREFUSE_LA/confQUEUE_LA 1000: sendmail refuses connections at a load
#     average of 12 by default, which a loaded 2-core box reaches;
#   - FEATURE(accept_unresolvable_domains) and nocanonify: there is no DNS,
#     and sendmail would answer every outside sender "451 Domain of sender
#     address resolve failed" - nothing to do with relaying;
#   - SMART_HOST esmtp:[127.0.0.3] at the sink's port;
#   - a local mailer that writes maildirs under $MTA_MAIL_DIR/USER/new;
#   - syslog goes to $MTA_LOG: in its namespace sendmail gets a private /dev
#     whose /dev/log is a socket a small receiver writes to the log.
# Profiles:
#   closed  the 8.17 default: relaying only for the host itself (127.0.0.1)
#           and for Connect:/To: RELAY entries of the access db (none);
#   open    FEATURE(`promiscuous_relay') (m4 warns about it);
#   sender  FEATURE(`relay_local_from') + FEATURE(`accept_unqualified_senders'):
#           relays whenever the MAIL FROM domain is one of class w - a sender
#           anybody can forge.
# MTA_EXTRA: .mc lines inserted before the MAILER lines (e.g. INPUT_MAIL_FILTER).
# SM_AUTH=1: SMTP AUTH (PLAIN, LOGIN) over plaintext with Cyrus SASL's sasldb,
#   user "relayuser" password "relaypass" (realm mail.site.example);
#   TRUST_AUTH_MECH lets authenticated clients relay. The SASL config
#   (Sendmail.conf) is read from /usr/lib/sasl2, in the namespace the
#   instance's own directory. Needs saslpasswd2 (sasl2-bin).

. "$(dirname "${BASH_SOURCE[0]}")/mta.sh"

SM_TREE=$RG_MTA_DIR/sendmail
SM_BIN=$SM_TREE/usr/libexec/sendmail/sendmail
SM_CF=$SM_TREE/usr/share/sendmail/cf

sendmail__check_profile() {
	case $1 in
	closed | open | sender) return 0 ;;
	esac
	rg_diag "mta_start sendmail: PROFILE must be closed, open or sender, not '$1'"
	return 1
}

sendmail__profile_mc() {
	case $1 in
	closed) ;;
	open) echo "FEATURE(\`promiscuous_relay')dnl" ;;
	sender)
		echo "FEATURE(\`relay_local_from')dnl"
		echo "FEATURE(\`accept_unqualified_senders')dnl"
		;;
	esac
}

sendmail__setup() {
	local d=$MTA_DIR e=$MTA_DIR/etc
	MTA_CONF=$e/sendmail.mc
	MTA_VERSION="sendmail $(sed -n 's/.*sendmail-bin=\([^ ]*\).*/\1/p' "$SM_TREE/.stamp")"
	chmod 700 "$d/spool"
	cat >"$d/deliver" <<'EOF'
#!/bin/sh
# local mailer of the test sendmail: one file per message in mail/USER/new
d="$(dirname "$0")/mail/$1/new"
mkdir -p "$d" || exit 73
f="$d/$(date +%s%N).$$"
cat >"$f.tmp" && mv "$f.tmp" "$f"
EOF
	chmod 755 "$d/deliver"
	cat >"$MTA_CONF" <<EOF
divert(-1)
dnl Private relayguard test instance, profile "$MTA_PROFILE" (tests/lib/sendmail.sh).
include(\`$SM_CF/m4/cf.m4')
divert(0)dnl
VERSIONID(\`relayguard test $MTA_PROFILE')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$MTA_HOSTNAME')dnl
define(\`MAIL_SETTINGS_DIR', \`$e/')dnl
define(\`QUEUE_DIR', \`$d/spool')dnl
define(\`STATUS_FILE', \`$e/statistics')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$e/aliases')dnl
define(\`confCW_FILE', \`$e/local-host-names')dnl
define(\`confHELP_FILE', \`$e/helpfile')dnl
define(\`confREFUSE_LA', \`1000')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confTO_CONNECT', \`10s')dnl
define(\`SMART_HOST', \`esmtp:[$MTA_SINK_HOST]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $MTA_SINK_PORT')dnl
define(\`LOCAL_MAILER_PATH', \`$d/deliver')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver \$u')dnl
define(\`LOCAL_MAILER_FLAGS', \`SPn9')dnl
DAEMON_OPTIONS(\`Port=$MTA_PORT, Addr=127.0.0.1, Name=MTA')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`use_cw_file')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $e/access')dnl
$(sendmail__profile_mc "$MTA_PROFILE")
$(sendmail__auth_mc)
${MTA_EXTRA:-}
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	printf '%s\n' "$MTA_HOSTNAME" "$MTA_DOMAIN" localhost >"$e/local-host-names"
	cat >"$e/aliases" <<EOF
postmaster: root
mailer-daemon: postmaster
abuse: postmaster
hostmaster: root
EOF
	sendmail__setup_auth || return 1
	: >"$e/access"
	: >"$e/helpfile"
	: >"$e/statistics"
	sendmail__rebuild
}

sendmail__auth_mc() {
	[ "${SM_AUTH:-0}" = 1 ] || return 0
	echo "define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl"
	echo "TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl"
}

sendmail__setup_auth() {
	local d=$MTA_DIR
	[ "${SM_AUTH:-0}" = 1 ] || return 0
	command -v saslpasswd2 >/dev/null || {
		rg_diag "sendmail: SM_AUTH=1 needs saslpasswd2 (sasl2-bin; make deps)"
		return 1
	}
	mkdir -p "$d/sasl2"
	printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
		"sasldb_path: $d/etc/sasldb2" "mech_list: PLAIN LOGIN" >"$d/sasl2/Sendmail.conf"
	echo relaypass | saslpasswd2 -p -c -f "$d/etc/sasldb2" -u "$MTA_HOSTNAME" relayuser || return 1
	chmod 600 "$d/etc/sasldb2"
}

sendmail__rebuild() {
	local e=$MTA_DIR/etc
	if ! m4 "$MTA_CONF" >"$e/sendmail.cf" 2>"$MTA_DIR/m4.log"; then
		rg_diag "sendmail: m4 failed on $MTA_CONF: $(cat "$MTA_DIR/m4.log")"
		return 1
	fi
	grep -q '^DS' "$e/sendmail.cf" || { rg_diag "sendmail: no .cf built"; return 1; }
	"$SM_TREE/usr/sbin/makemap" -C "$e/sendmail.cf" hash "$e/access" <"$e/access" \
		>>"$MTA_DIR/start.log" 2>&1 || return 1
	mta__ns "$SM_BIN" -C "$e/sendmail.cf" -bi >>"$MTA_DIR/start.log" 2>&1
}

# The syslog receiver: sendmail logs only through syslog(3) to /dev/log.
sendmail__start_syslog() {
	local sock=$MTA_DIR/log.sock
	[ -e "$MTA_DIR/syslog.pid" ] && rg_pid_alive "$(cat "$MTA_DIR/syslog.pid")" && return 0
	rm -f "$sock"
	(
		python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
f = open(sys.argv[2], "ab", 0)
while True:
    f.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$sock" "$MTA_LOG" >"$MTA_DIR/syslog.out" 2>&1 </dev/null &
		echo $! >"$MTA_DIR/syslog.pid"
	)
	# python3 starts slowly on a loaded machine (ASan CI, parallel runs)
	rg_retry 30 test -S "$sock"
}

sendmail__launch() {
	local pid
	local binds= devlog=$MTA_DIR/log.sock
	# without the receiver sendmail still starts, only its log is lost
	sendmail__start_syslog || { rg_diag "sendmail: no syslog receiver; logging lost"; devlog=; }
	rm -f "$MTA_DIR/sendmail.pid"
	[ -d "$MTA_DIR/sasl2" ] && binds="$MTA_DIR/sasl2=/usr/lib/sasl2"
	MTA_NS_BIND=$binds MTA_NS_DEVLOG=$devlog mta__ns "$SM_BIN" -C "$MTA_DIR/etc/sendmail.cf" \
		-bd -q5s >>"$MTA_DIR/start.log" 2>&1 || return 1
	rg_retry 10 test -s "$MTA_DIR/sendmail.pid" || return 1
	pid=$(head -n 1 "$MTA_DIR/sendmail.pid" | tr -dc 0-9)
	MTA_PID=$pid
}

sendmail__queue_count() {
	local n
	n=$(find "$MTA_DIR/spool" -name 'qf*' -type f 2>/dev/null | wc -l) || true
	echo $((n))
}

sendmail__flush() {
	mta__ns "$SM_BIN" -C "$MTA_DIR/etc/sendmail.cf" -q >/dev/null 2>&1
}
