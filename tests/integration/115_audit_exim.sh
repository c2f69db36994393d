#!/bin/bash
# relayguard-audit against a real private exim (tests/lib/exim.sh), every profile:
# a real message from an outside address establishes the truth, the audit
# must agree with it and relay nothing, and where it finds a hole its fix,
# applied literally, must close it while local mail and the trusted host
# still work (tests/lib/mta_check.sh). An MTA that cannot be started is a
# failure with its reason, never a skip.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/exim.sh
source tests/lib/mta_check.sh

mta_check exim closed refused
mta_check exim open relayed
# accept senders = *@+local_domains before the relay check: a forged local sender relays.
mta_check exim sender relayed "--from x@site.example"
# a router re-resolving user%domain@local: the percent hack by hand.
mta_check exim percent relayed "--to victim%victim.example@site.example"
tap_done
