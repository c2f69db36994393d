#!/bin/sh
# A minimal Debian root as a tarball, made by mmdebstrap from apt's
# configured sources, for tests/integration/730_deb_install.sh: the test
# unpacks it into a temp dir and installs, removes and purges
# relayguard_*.deb there with dpkg in a chroot, with the maintainer scripts
# running for real. The test runs without a network, so the root is made
# here (make deps) and only unpacked there.
#
# It holds minbase, the libraries relayguard links against (the Depends of
# the package, from dh_shlibdeps), systemd (systemd-sysusers and
# systemd-tmpfiles, which the postinst calls) and postfix (installed with
# "No configuration", as scripts/deps.sh does: it brings the group postfix
# that the sample's UserID and the socket directory name). A package that
# gains a library dependency needs it added to INCLUDE; the test names it.
#
#   RG_DEBROOT_DIR   where (default /var/cache/relayguard/debroot); the tar
#                    is <codename>.tar beside a stamp of what it holds
set -eu

DIR=${RG_DEBROOT_DIR:-/var/cache/relayguard/debroot}
INCLUDE="systemd postfix libjansson4 libssl3 libldns3 libxml2 libpsl5
libevent-2.1-7 libevent-pthreads-2.1-7 libmilter1.0.1 libspf2-2 libmicrohttpd12
libhiredis0.14"

command -v mmdebstrap >/dev/null || { echo "deb-root: mmdebstrap not installed" >&2; exit 1; }
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9

want="$suite minbase $(echo $INCLUDE)"
tar=$DIR/$suite.tar
if [ -f "$tar" ] && [ -s "$tar" ] && [ "$(cat "$tar.stamp" 2>/dev/null)" = "$want" ]; then
	echo "deb-root: $tar is up to date"
	exit 0
fi

# apt's own sources, as this machine reaches the package registry
set --
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -s "$f" ] && set -- "$@" "$f"
done
[ $# -gt 0 ] || { echo "deb-root: no apt sources" >&2; exit 1; }

echo "deb-root: making $tar (minbase + $(echo $INCLUDE | wc -w) packages; minutes)"
rm -rf "$tar.new" "$tar" "$tar.stamp"
mmdebstrap --quiet --format=tar --variant=minbase --include="$(echo $INCLUDE | tr ' ' ,)" \
	--essential-hook='echo "postfix postfix/main_mailer_type select No configuration" | chroot "$1" debconf-set-selections' \
	"$suite" "$tar.new" "$@"
mv "$tar.new" "$tar"
echo "$want" >"$tar.stamp"
echo "deb-root: wrote $tar"
