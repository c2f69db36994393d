# tests/lib/preamble.sh - the start every integration test shares (bash).
#
#   source "$(dirname "$0")/../lib/preamble.sh" || exit 1
#   rg_built "$MILTER" "$REPORT"     (the programs this test runs)
#
# cds to the top of the tree (the scripts name files from there), sets
#
#   BUILD    the build directory (default: build; tests/run exports it)
#   AUDIT    $BUILD/relayguard-audit
#   MILTER   $BUILD/relayguard-milter (unless set: tests/milter/lib.sh honours it)
#   REPORT   $BUILD/relayguard-report
#   HOSTILE  $BUILD/tests/tools/hostile_smtpd (unless set, as tests/lib/hostile.sh)
#
# and sources tests/lib/tap.sh and tests/lib/common.sh. rg_built PATH... bails
# out ("Bail out! PATH not built") unless every PATH is executable: a missing
# program is a broken build, never a skip.

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BUILD=${BUILD:-build}
AUDIT=$BUILD/relayguard-audit
MILTER=${MILTER:-$BUILD/relayguard-milter}
REPORT=$BUILD/relayguard-report
HOSTILE=${HOSTILE:-$BUILD/tests/tools/hostile_smtpd}
source tests/lib/tap.sh
source tests/lib/common.sh

rg_built() {
	local p
	for p in "$@"; do
		[ -x "$p" ] || tap_bail "$p not built (make all)"
	done
	return 0
}
