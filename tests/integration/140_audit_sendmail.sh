#!/bin/bash
# relayguard-audit against a real private sendmail (tests/lib/sendmail.sh), every profile:
# a real message from an outside address establishes the truth, the audit
# must agree with it and relay nothing, and where it finds a hole its fix,
# applied literally, must close it while local mail and the trusted host
# still work (tests/lib/mta_check.sh). An MTA that cannot be started is a
# failure with its reason, never a skip.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/sendmail.sh
source tests/lib/mta_check.sh

mta_check sendmail closed refused
mta_check sendmail open relayed
# FEATURE(relay_local_from) + FEATURE(accept_unqualified_senders)
mta_check sendmail sender relayed "--from x@site.example"
tap_done
