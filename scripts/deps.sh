#!/bin/sh
# Install the Debian packages relayguard's build, tests and demo need, when
# missing. Runs as root, non-interactively. Postfix is installed *without*
# configuring or starting a system instance: the tests and the demo run
# private instances from temporary directories.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libjansson-dev libssl-dev libevent-dev libmilter-dev libspf2-dev libldns-dev libpsl-dev publicsuffix
libcmocka-dev libxml2-dev postfix swaks miltertest nmap ldnsutils libxml2-utils
iproute2 procps util-linux ca-certificates jq bc nsd python3 chromium fonts-dejavu-core
gettext python3-jsonschema fonts-noto-cjk
logrotate libmicrohttpd-dev nodejs libhiredis-dev redis-server
m4 libwrap0 libidn12 liblockfile1 libdb5.3 libgnutls-dane0 libnsl2 libpcre2-8-0
libevent-2.1-7 libpam0g libldap-2.5-0 libsasl2-2 adduser python3-milter sasl2-bin
libcourier-unicode4 libltdl7 libgdbm6 libperl5.36
fail2ban nftables
debhelper lintian fakeroot dpkg-dev mmdebstrap"

# Exim, OpenSMTPD, sendmail and Courier conflict with postfix as packages: they are
# downloaded and unpacked into private trees (scripts/mta-unpack.sh) after
# their libraries (above) are installed; every run checks the trees.
# With them, the Debian root that tests/integration/730_deb_install.sh
# installs the .deb into (scripts/deb-root.sh; the test has no network).
mta_trees() {
	[ "$(id -u)" = 0 ] || { echo "deps: run as root to unpack the test MTAs" >&2; return 1; }
	sh "$(dirname "$0")/mta-unpack.sh"
	sh "$(dirname "$0")/deb-root.sh"
}

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all Debian packages present"
	mta_trees
	exit
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# No system mail server: Debian's postfix then installs its files only.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Keep maintainer scripts from starting any service while we install.
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	made_policy=yes
fi
trap '[ "$made_policy" = yes ] && rm -f "$policy"' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
mta_trees
