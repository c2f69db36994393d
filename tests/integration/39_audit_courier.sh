#!/bin/bash
# relayguard-audit against a real private Courier-MTA (tests/lib/courier.sh),
# every profile (issue 17): a real message from an outside address
# establishes the truth, local mail is delivered, the audit names Courier,
# completes nothing and its verdict agrees with the truth
# (tests/lib/mta_truth.sh). Checks that today's audit fails are TAP TODO
# with the issue-17 item that fixes them.
# An MTA that cannot be started is a failure with its reason, never a skip.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
AUDIT=$BUILD/relayguard-audit
source tests/lib/tap.sh
source tests/lib/courier.sh
source tests/lib/mta_truth.sh

# --- closed: Debian's smtpaccess/default, RELAYCLIENT for 127.0.0.1 ---------
mta_truth courier closed refused
tap_is "$(mta_relays_real 127.0.0.1)" relayed "courier closed: the trusted host relays"
mta_stop

# --- open: "*	allow,RELAYCLIENT" ---------------------------------------------
mta_truth courier open relayed
mta_stop

# --- network: "127	allow,RELAYCLIENT", a network too wide ----------------------
mta_truth courier network relayed
mta_stop
tap_done
