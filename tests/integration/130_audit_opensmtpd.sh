#!/bin/bash
# relayguard-audit against a real private opensmtpd (tests/lib/opensmtpd.sh), every profile:
# a real message from an outside address establishes the truth, the audit
# must agree with it and relay nothing, and where it finds a hole its fix,
# applied literally, must close it while local mail and the trusted host
# still work (tests/lib/mta_check.sh). An MTA that cannot be started is a
# failure with its reason, never a skip.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/opensmtpd.sh
source tests/lib/mta_check.sh

mta_check opensmtpd closed refused
mta_check opensmtpd open relayed
# match from any mail-from "@site.example" for any action "relay"
mta_check opensmtpd sender relayed "--from x@site.example"
# match from any helo "mail.site.example" for any action "relay"
mta_check opensmtpd helo relayed "--helo mail.site.example"
tap_done
