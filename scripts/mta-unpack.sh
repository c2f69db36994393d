#!/bin/sh
# Fetch Debian's Exim, OpenSMTPD, sendmail and Courier and unpack each into a
# private tree, and npm's Haraka into its own prefix, for the test harness
# (tests/lib/exim.sh, opensmtpd.sh, sendmail.sh, courier.sh, haraka.sh).
# They conflict as packages with postfix (and with each other), so they are
# never installed: `apt-get download` puts the .debs into a cache and
# `dpkg -x` unpacks each MTA into its own directory; the libraries they link
# against do not conflict and are installed normally by scripts/deps.sh.
# Nothing of theirs runs at install time: no maintainer script, no service.
#
#   RG_MTA_DIR   where (default /var/cache/relayguard/mta), shared by every
#                checkout on the machine; a lock serialises concurrent runs.
#
# Layout: $RG_MTA_DIR/debs/*.deb and one tree per MTA, with a stamp naming
# the package versions unpacked:
#   exim/      exim4-daemon-light exim4-base exim4-config  (usr/sbin/exim4)
#   opensmtpd/ opensmtpd                                    (usr/sbin/smtpd)
#   sendmail/  sendmail-bin sendmail-base sendmail-cf      (usr/lib/sm.bin/sendmail,
#                                                           usr/share/sendmail/cf)
#   courier/   courier-mta courier-base courier-authlib     (usr/sbin/courier,
#              courier-authlib-userdb courier-authdaemon    usr/sbin/couriertcpd,
#                                                           usr/sbin/authdaemond)
#   haraka/    npm's Haraka, pinned                         (node_modules/Haraka/bin/haraka)
# Runs as root (apt-get download needs the package lists; run apt-get update
# first when they are missing). Idempotent: trees whose stamp matches stay.
set -eu

DIR=${RG_MTA_DIR:-/var/cache/relayguard/mta}
mkdir -p "$DIR/debs"
exec 9>"$DIR/.lock"
flock 9

updated=no
candidate() {
	v=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ "$v" = "(none)" ] && v=
	echo "$v"
}

unpack() {	# TREE PKG...
	tree=$1
	shift
	want=""
	for p in "$@"; do
		v=$(candidate "$p")
		if [ -z "$v" ] && [ -f "$DIR/$tree/.stamp" ]; then
			echo "mta-unpack: $tree kept (no package lists to compare):$(cat "$DIR/$tree/.stamp")"
			return 0
		fi
		if [ -z "$v" ] && [ "$updated" = no ]; then
			apt-get update -qq
			updated=yes
			v=$(candidate "$p")
		fi
		if [ -z "$v" ]; then
			echo "mta-unpack: no candidate version for $p" >&2
			return 1
		fi
		want="$want $p=$v"
	done
	if [ -f "$DIR/$tree/.stamp" ] && [ "$(cat "$DIR/$tree/.stamp")" = "$want" ]; then
		echo "mta-unpack: $tree up to date:$want"
		return 0
	fi
	(cd "$DIR/debs" && apt-get download -q $want >/dev/null)
	rm -rf "$DIR/$tree.new"
	mkdir -p "$DIR/$tree.new"
	for pv in $want; do
		p=${pv%%=*}
		v=${pv#*=}
		deb=$(ls "$DIR/debs/${p}_$(echo "$v" | sed 's/^[0-9]*://')"_*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || { echo "mta-unpack: $p $v not downloaded" >&2; return 1; }
		dpkg -x "$deb" "$DIR/$tree.new"
	done
	echo "$want" >"$DIR/$tree.new/.stamp"
	rm -rf "${DIR:?}/${tree:?}"
	mv "$DIR/$tree.new" "$DIR/$tree"
	echo "mta-unpack: unpacked $tree:$want"
}

# The _apt sandbox user cannot write into a root-owned cache: let it.
chown _apt "$DIR/debs" 2>/dev/null || true
unpack exim exim4-daemon-light exim4-base exim4-config
unpack opensmtpd opensmtpd
unpack sendmail sendmail-bin sendmail-base sendmail-cf
unpack courier courier-mta courier-base courier-authlib courier-authlib-userdb courier-authdaemon

# Haraka is not a Debian package: npm installs the pinned version into its own
# prefix (node_modules/Haraka/bin/haraka), with npm's lock of that day. The
# one native module (modern-syslog, for the syslog plugin no test uses) is
# not built: npm does not run install scripts unless told.
HARAKA=Haraka@3.3.4
npm_tree() {	# TREE PKG@VERSION
	if [ -f "$DIR/$1/.stamp" ] && [ "$(cat "$DIR/$1/.stamp")" = "$2" ]; then
		echo "mta-unpack: $1 up to date: $2"
		return 0
	fi
	command -v npm >/dev/null || { echo "mta-unpack: npm is missing (nodejs, npm)" >&2; return 1; }
	rm -rf "$DIR/$1.new"
	mkdir -p "$DIR/$1.new"
	npm install --prefix "$DIR/$1.new" --no-audit --no-fund --ignore-scripts --loglevel=error "$2" >/dev/null
	[ -f "$DIR/$1.new/node_modules/Haraka/bin/haraka" ] ||
		{ echo "mta-unpack: npm did not install $2" >&2; return 1; }
	echo "$2" >"$DIR/$1.new/.stamp"
	rm -rf "${DIR:?}/${1:?}"
	mv "$DIR/$1.new" "$DIR/$1"
	echo "mta-unpack: installed $1: $2"
}
npm_tree haraka "$HARAKA"

# The system users the packages' maintainer scripts would create (postinst):
# Exim drops to Debian-exim, OpenSMTPD's processes run as opensmtpd (smtp,
# lookups) and opensmtpq (queue), chrooted into an empty directory; Courier's
# esmtpd, courierd and spool belong to courier.
add_user() {	# NAME HOME
	getent passwd "$1" >/dev/null && return 0
	adduser --quiet --system --group --no-create-home --home "$2" \
		--disabled-login --force-badname "$1" >/dev/null
	echo "mta-unpack: created system user $1"
}
add_user Debian-exim /var/spool/exim4
add_user opensmtpd /var/lib/opensmtpd/empty
add_user opensmtpq /var/lib/opensmtpd/empty
add_user courier /var/lib/courier
mkdir -p /var/lib/opensmtpd/empty
chmod 755 /var/lib/opensmtpd/empty
