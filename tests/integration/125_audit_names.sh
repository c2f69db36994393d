#!/bin/bash
# Issue 10, finding 3: rules keyed on the server's mail domain are tried.
# hostile_smtpd sender-domain greets as mail.site.test and relays for senders
# @site.test only (OpenSMTPD: match mail-from "@site.example" ... action
# "relay"); the auditor's name set holds the parent mail domain, so the hole
# is found. A domain the server does not reveal is tried when the operator
# names it with --local-name.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/hostile.sh
audit() { timeout 60 "$AUDIT" -p "$HPORT" -t 5 --connect-timeout 2 --budget 40 \
	-d victim.example "$@" 127.0.0.1 2>/dev/null; }

start_hostile sender-domain
out=$(audit -f json); rc=$?
tap_is "$(jq -r .verdict <<<"$out")" open_relay "relaying for senders @site.test (parent of mail.site.test) found"
tap_is "$rc" 2 "exit 2"
tap_check "the name set holds the parent mail domain site.test" \
	jq -e '.local_names | index("site.test") != null' <<<"$out"
tap_check "... and never the TLD alone" jq -e '.local_names | index("test") == null' <<<"$out"
tap_is "$(jq -r '.tests[] | select(.mail_from=="<relaytest@site.test>" and .rcpt_to=="<relaytest@victim.example>") | .outcome' <<<"$out")" \
	accepted "MAIL FROM:<relaytest@site.test> accepted for an outside recipient"
tap_is "$(jq -r '[.tests[] | select(.class=="sender" and .outcome=="accepted")] | length > 0' <<<"$out")" true \
	"the accepted probe is of the sender-side class"
tap_like "$(audit)" 'names: +\[127\.0\.0\.1\] mail\.site\.test site\.test' "text report lists the names tried"
tap_check "no session reached 10 errors (Postfix soft error limit)" jq -e \
	'[.tests[] | select(.outcome!="accepted") | .session] | group_by(.) | all(length < 10)' <<<"$out"
stop_hostile

# a mail domain nothing on the server reveals: only --local-name finds it
export HOSTILE_SENDER_DOMAIN=corp.test
start_hostile sender-domain
out=$(audit -f json)
tap_is "$(jq -r .verdict <<<"$out")" closed "sender rule on corp.test, not revealed: closed without --local-name"
out=$(audit -f json --local-name corp.test --local-name mx.corp.test)
tap_is "$(jq -r .verdict <<<"$out")" open_relay "--local-name corp.test: found"
tap_check "--local-name values are in the name set" \
	jq -e '(.local_names | index("corp.test") != null) and (.local_names | index("mx.corp.test") != null)' <<<"$out"
stop_hostile
unset HOSTILE_SENDER_DOMAIN

err=$("$AUDIT" --local-name 'bad name!' 127.0.0.1 2>&1); rc=$?
tap_is "$rc" 64 "--local-name with a bad name: usage error, exit 64"
tap_like "$err" "--local-name: 'bad name!'" "the message names the option and the value"
tap_done
