#!/bin/sh
# scripts/deb.sh - make deb: the Debian package relayguard_VERSION_ARCH.deb
# at the top of the tree, built by dpkg-buildpackage (debian/, debhelper)
# from a copy of the sources in build-deb/src, so that the tree itself
# keeps no debhelper byproducts; then lintian, which must be silent apart
# from the overrides in debian/relayguard.lintian-overrides.
#
# The version has one source, RG_VERSION in lib/base/version.h:
# a debian/changelog that names another version stops the build.
# The sources' content hash is kept in build-deb/source.sha256: an
# unchanged tree reuses the package (make check's 730_deb_install.sh calls
# make deb every run). RG_DEB_FORCE=1 rebuilds anyway.
set -eu
cd "$(dirname "$0")/.."

die() {
	echo "deb: $*" >&2
	exit 1
}

for t in dpkg-buildpackage dpkg-parsechangelog dh lintian fakeroot; do
	command -v "$t" >/dev/null || die "$t not installed (make deps)"
done
version=$(sed -n 's/^#define RG_VERSION[[:space:]]*"\(.*\)"$/\1/p' lib/base/version.h)
[ -n "$version" ] || die "no RG_VERSION in lib/base/version.h"
clv=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "$clv" = "$version" ] ||
	die "debian/changelog says $clv, lib/base/version.h says $version: add a changelog entry (dch -v $version)"
deb=relayguard_${version}_$(dpkg --print-architecture).deb

# The sources: what git tracks or would track (.gitignore keeps build
# trees and packages out); without git, the tree less those. The test
# suite, benchmarks and CI script are no part of the package: editing a
# test does not make a new package.
mkdir -p build-deb
rm -rf build-deb/src.new
mkdir -p "build-deb/src.new/relayguard-$version"
if git rev-parse --show-toplevel >/dev/null 2>&1; then
	git ls-files -z -c -o --exclude-standard -- . ':!tests' ':!bench' ':!.ci' |
		xargs -0 -r sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "build-deb/src.new/relayguard-$version"
else
	tar --exclude='./build*' --exclude='./relayguard_*' --exclude=./demo-out \
		--exclude=./tests --exclude=./bench --exclude=./.ci --exclude=./.git -cf - . |
		tar -xf - -C "build-deb/src.new/relayguard-$version"
fi
sum=$(cd build-deb/src.new && find . -type f -print0 | LC_ALL=C sort -z |
	xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "${RG_DEB_FORCE:-0}" != 1 ] && [ -s "$deb" ] && [ -s build-deb/source.sha256 ] &&
	[ "$(cat build-deb/source.sha256)" = "$sum" ] && cmp -s "$deb" "build-deb/src/$deb"; then
	rm -rf build-deb/src.new
	echo "deb: $deb is up to date (sources $sum)"
	exit 0
fi
rm -rf build-deb/src build-deb/source.sha256 "$deb"
mv build-deb/src.new build-deb/src

start=$(date +%s)
(cd "build-deb/src/relayguard-$version" &&
	dpkg-buildpackage -b -us -uc -j"${RG_DEB_JOBS:-2}") >build-deb/build.log 2>&1 || {
	tail -40 build-deb/build.log >&2
	die "dpkg-buildpackage failed (all of it: build-deb/build.log)"
}
# lintian: tags that no override covers fail the build; overridden ones
# are listed (debian/relayguard.lintian-overrides says why each is there).
lintian --fail-on error,warning --show-overrides "build-deb/src/$deb" >build-deb/lintian.log 2>&1 || {
	cat build-deb/lintian.log >&2
	die "lintian found problems (build-deb/lintian.log)"
}
# (lintian's note that it runs as root - make deps' root - is no finding)
grep -v '^running with root privileges is not recommended!$' build-deb/lintian.log |
	sed 's/^/deb: lintian: /' || true
cp "build-deb/src/$deb" "$deb"
echo "$sum" >build-deb/source.sha256
echo "deb: wrote $deb in $(($(date +%s) - start)) s"
