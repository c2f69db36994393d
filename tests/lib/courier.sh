# shellcheck shell=bash disable=SC2034
# tests/lib/courier.sh - a private, real Courier-MTA 1.0.16 (Debian's
# courier-mta, courier-base and courier-authlib*, unpacked by
# scripts/mta-unpack.sh) on loopback: mta_start courier PROFILE. The common
# interface is documented in tests/lib/mta.sh.
#
# Courier's paths are compiled in (/etc/courier, /usr/lib/courier,
# /var/lib/courier, /run/courier). In the instance's namespace the unpacked
# /usr is a read-only overlay over the system's, /etc/courier is the
# instance's copy of Debian's /etc/courier ($MTA_DIR/etc/courier), and
# /var/lib/courier and /run/courier are the instance's spool and run
# directories. Three daemons run there, as the Debian init scripts start
# them: authdaemond (its user lookups), courierd (queue, local and esmtp
# delivery) and couriertcpd with courieresmtpd (port $MTA_PORT on 127.0.0.1
# only), each with its settings from Debian's files.
#
# Kept from Debian: esmtpd as shipped (TARPIT=1, MAXPERIP=5, MAXPERC=5,
# BOFHNOVRFY ...), smtpaccess/default as shipped for the closed profile,
# locals "localhost" plus the default domain as the postinst writes it.
# Changed for the harness:
#   - esmtpd listens on 127.0.0.1:$MTA_PORT in the foreground, its stderr
#     (and courierd's, authdaemond's) is $MTA_LOG, not syslog;
#     BOFHCHECKDNS=0: there is no DNS in the test namespace (Courier's own
#     resolver cannot use a nameserver on another port than 53), and the
#     stock check would defer every sender;
#   - me mail.site.example, defaultdomain site.example, locals and
#     esmtpacceptmailfor.dir/site name site.example and mail.site.example;
#   - esmtproutes ":[127.0.0.3],PORT": everything not local goes to the sink;
#   - local mail: authdaemond with authuserdb, one userdb account "root"
#     (uid courier) whose maildir is $MTA_MAIL_DIR/root; aliases/system
#     sends postmaster (and mailer-daemon) to root.
# Profiles ($MTA_CONF is smtpaccess/default, the file whose RELAYCLIENT
# opens Courier; makesmtpaccess compiles it):
#   closed   Debian's smtpaccess/default: RELAYCLIENT for 127.0.0.1, ::1,
#            10/8 and 192.168/16 (the outsider 127.0.0.2 is in none)
#   open     closed plus "*	allow,RELAYCLIENT": relaying for everyone
#   network  closed plus "127	allow,RELAYCLIENT": a network too wide (the
#            outsider 127.0.0.2 is in it)
# MTA_EXTRA: lines appended to esmtpd (e.g. TARPIT=0: Debian's tarpit off).

. "$(dirname "${BASH_SOURCE[0]}")/mta.sh"

CR_TREE=$RG_MTA_DIR/courier

courier__check_profile() {
	case $1 in
	closed | open | network) return 0 ;;
	esac
	rg_diag "mta_start courier: PROFILE must be closed, open or network, not '$1'"
	return 1
}

# courier__ns CMD...: run CMD where Courier's compiled-in paths are the
# instance's (see above).
courier__ns() {
	MTA_NS_OVERLAY="$CR_TREE/usr=/usr $MTA_DIR/root/etc=/etc" MTA_NS_TMPFS="/var/lib /run" \
		MTA_NS_BIND="$MTA_DIR/etc/courier=/etc/courier $MTA_DIR/spool=/var/lib/courier $MTA_DIR/run=/run/courier" \
		mta__ns "$@"
}

courier__set() {	# FILE KEY VALUE: set a shell-style KEY=VALUE line
	sed -i "s|^$2=.*|$2=$3|" "$1"
	grep -q "^$2=" "$1" || printf '%s=%s\n' "$2" "$3" >>"$1"
}

courier__access() {	# the profile's smtpaccess/default
	local f=$1
	cp "$CR_TREE/etc/courier/smtpaccess/default" "$f"
	case $MTA_PROFILE in
	open) printf '\n# relayguard profile "open"\n*\tallow,RELAYCLIENT\n' >>"$f" ;;
	network) printf '\n# relayguard profile "network"\n127\tallow,RELAYCLIENT\n' >>"$f" ;;
	esac
}

courier__dirs() {
	local c=$MTA_DIR/etc/courier uid gid
	if ! uid=$(id -u courier) || ! gid=$(id -g courier); then
		rg_diag "courier: no courier user (run make deps: scripts/mta-unpack.sh creates it)"
		return 1
	fi
	mkdir -p "$MTA_DIR/root/etc/courier" "$MTA_DIR/run/authdaemon" "$MTA_MAIL_DIR/root"
	cp -a "$CR_TREE/etc/courier" "$MTA_DIR/etc/"
	cp -a "$CR_TREE/var/lib/courier/." "$MTA_DIR/spool/"
	# The esmtp client's MTA-STS policy cache; size 0 turns the lookups off
	# (there is no DNS to ask, and each lookup would wait out its timeouts).
	mkdir -p "$MTA_DIR/spool/sts"
	echo 0 >"$MTA_DIR/spool/sts/.cache_size"
	# What the postinst's dpkg-statoverride lines and tmpfiles.d set.
	chown -R courier:courier "$MTA_DIR/spool" "$MTA_DIR/run/authdaemon"
	chmod 750 "$MTA_DIR/spool" "$MTA_DIR"/spool/{allfilters,filters,msgq,msgs,track,sts}
	chmod 770 "$MTA_DIR/spool/tmp"
	chown root:courier "$c" "$MTA_DIR/run" "$c/aliases" "$c/aliasdir" "$c/esmtpacceptmailfor.dir"
	chmod 775 "$MTA_DIR/run"
	chmod 750 "$MTA_DIR/run/authdaemon" "$c/aliases" "$c/esmtpacceptmailfor.dir"
	mkdir -p "$MTA_MAIL_DIR/root"/{new,cur,tmp}
	chown -R courier:courier "$MTA_MAIL_DIR/root"
	chmod 700 "$MTA_MAIL_DIR/root"
	printf 'root\tuid=%s|gid=%s|home=%s|mail=%s|shell=/bin/false\n' "$uid" "$gid" \
		"$MTA_MAIL_DIR/root" "$MTA_MAIL_DIR/root" >"$c/userdb"
	chmod 600 "$c/userdb"
}

courier__setup() {
	local c=$MTA_DIR/etc/courier
	MTA_VERSION="Courier $(sed -n 's/.*courier-mta=\([^ ]*\).*/\1/p' "$CR_TREE/.stamp")"
	[ -x "$CR_TREE/usr/lib/courier/courier/courierd" ] || {
		rg_diag "courier: no $CR_TREE/usr/lib/courier/courier/courierd (run make deps)"
		return 1
	}
	courier__dirs || return 1
	echo "$MTA_HOSTNAME" >"$c/me"
	echo "$MTA_DOMAIN" >"$c/defaultdomain"
	printf 'localhost\n%s\n%s\n' "$MTA_DOMAIN" "$MTA_HOSTNAME" >"$c/locals"
	printf '%s\n%s\n' "$MTA_DOMAIN" "$MTA_HOSTNAME" >"$c/esmtpacceptmailfor.dir/site"
	printf ':[%s],%s\n' "$MTA_SINK_HOST" "$MTA_SINK_PORT" >"$c/esmtproutes"
	echo '"Courier mail server at mail.site.example" <@>' >"$c/dsnfrom"
	printf 'mailer-daemon: postmaster\nMAILER-DAEMON: postmaster\npostmaster: root\n' \
		>"$c/aliases/system"
	sed -i 's|^authmodulelist=.*|authmodulelist="authuserdb"|' "$c/authdaemonrc"
	courier__set "$c/esmtpd" ADDRESS "$MTA_HOST"
	courier__set "$c/esmtpd" PORT "$MTA_PORT"
	courier__set "$c/esmtpd" BOFHCHECKDNS 0
	courier__set "$c/esmtpd" TCPDOPTS '"-noidentlookup -nodnslookup"'
	[ -z "${MTA_EXTRA:-}" ] || printf '# MTA_EXTRA\n%s\n' "$MTA_EXTRA" >>"$c/esmtpd"
	MTA_CONF=$c/smtpaccess/default
	courier__access "$MTA_CONF"
	chown -R root:courier "$c"
	courier__rebuild
}

# Compile the configuration as the make* commands do (makesmtpaccess,
# makeacceptmailfor, makealiases, makeuserdb), into the .dat files the
# daemons read.
courier__rebuild() {
	courier__ns sh -c '
		set -e
		cd /etc/courier
		/usr/lib/courier/makedat -src=smtpaccess -file=smtpaccess.dat -tmp=smtpaccess.tmp -cidr
		/usr/lib/courier/makedat -src=esmtpacceptmailfor.dir -file=esmtpacceptmailfor.dat \
			-tmp=esmtpacceptmailfor.tmp
		/usr/sbin/makealiases
		/usr/sbin/makeuserdb
		chown root:courier esmtpacceptmailfor.dat smtpaccess.dat aliases.dat
	' >>"$MTA_DIR/start.log" 2>&1
}

# shellcheck disable=SC2016
courier__launch() {
	rm -f "$MTA_DIR/run/authdaemon/pid"
	(
		MTA_NS_EXEC=1 courier__ns sh -c '
			/usr/sbin/authdaemond start
			( env -i /bin/sh -c "set -a; . /etc/courier/courierd; exec /usr/lib/courier/courier/courierd" & )
			exec env -i /bin/sh -c "set -a; sysconfdir=/etc/courier; . /etc/courier/esmtpd; ulimit -d \$ULIMIT;
				exec /usr/sbin/couriertcpd \$TCPDOPTS -user=\$MAILUSER -group=\$MAILGROUP \
				-address=\$ADDRESS -access=\$ACCESSFILE.dat -maxprocs=\$MAXDAEMONS \
				-maxperc=\$MAXPERC -maxperip=\$MAXPERIP \$PORT /usr/sbin/courieresmtpd"
		' >>"$MTA_LOG" 2>&1 </dev/null &
		echo $! >"$MTA_DIR/courier.pid"
	)
	MTA_PID=$(cat "$MTA_DIR/courier.pid")
	# courierd and authdaemond put themselves into the background: mta_stop
	# ends every process of the instance's mount namespace.
	rg_retry 10 courier__mntns || { rg_diag "courier: no private namespace"; return 1; }
	rg_retry 10 test -s "$MTA_DIR/run/authdaemon/pid" || {
		rg_diag "courier: authdaemond did not start"
		return 1
	}
	rg_retry 20 rg__listening_on "$MTA_HOST" "$MTA_PORT" tcp
}

courier__mntns() {	# the daemon's mount namespace, once it has its own
	local ns
	ns=$(readlink "/proc/$MTA_PID/ns/mnt") || return 1
	[ "$ns" != "$(readlink /proc/$$/ns/mnt)" ] || return 1
	echo "$ns" >"$MTA_DIR/mntns"
}

courier__queue_count() {
	local n
	n=$(find "$MTA_DIR/spool/msgs" -type f -name 'C*' 2>/dev/null | wc -l) || true
	echo $((n))
}

# "courier flush": courierd tries every queued message now.
courier__flush() {
	courier__ns /usr/sbin/courier flush >/dev/null 2>&1
}
