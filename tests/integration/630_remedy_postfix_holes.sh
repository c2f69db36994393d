#!/bin/bash
# rg-timeout: 600
# Issue 17: Postfix relay holes beyond mynetworks = 0.0.0.0/0, on the real
# private Postfix (tests/lib/postfix_holes.sh): a sender-based permit
# (check_sender_access OK, in smtpd_relay_restrictions and in the pre-2.10
# smtpd_recipient_restrictions), a HELO-based permit (check_helo_access OK),
# a too-wide network (mynetworks = 127.0.0.0/8; mynetworks unset with
# mynetworks_style = subnet) and the same holes in a master.cf -o override,
# which beats main.cf. For each profile:
#  - the truth: one real message from the outsider 127.0.0.2 through the
#    hole reaches the next hop (a plain one is refused where the hole needs
#    a forged sender or HELO); local mail from the outsider is delivered;
#  - the audit names Postfix, says open_relay (exit 2), finds the hole's
#    class and completes no message;
#  - its JSON remedy names the setting, and its check command, run against
#    the server, prints the line that holds the hole;
#  - the remedy applied literally (tests/lib/mta_fix.py --json, to main.cf
#    and master.cf) leaves a configuration postconf -n accepts without a
#    warning (postfix check of the same rows: 620_remedy_statements.sh);
#    after postfix reload the re-audit says closed, the real message
#    through the hole is refused, local mail is still delivered, the trusted
#    host 127.0.0.1 still relays and the check command no longer prints the
#    line of the hole.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
FIX=tests/lib/mta_fix.py
source tests/lib/postfix.sh
source tests/lib/postfix_holes.sh

W=$(mktemp -d "${TMPDIR:-/tmp}/rg-64.XXXXXX") || tap_bail "mktemp"
rg_cleanup_add "rm -rf '$W'"
mkdir -p "$W/root/etc"

audit() {	# prints the JSON report; the audit's exit status
	"$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -t 10 -f json 127.0.0.1
}

# apply_remedy JSON: every step, literally, to this instance's main.cf and
# master.cf (the files the steps name, /etc/postfix/..., under a root whose
# etc/postfix is the instance's configuration directory), then reload.
apply_remedy() {
	local out
	ln -sfn "$PF_CONF" "$W/root/etc/postfix" || return 1
	out=$(python3 "$FIX" --json --root "$W/root" postfix "$PF_CONF/main.cf" <<<"$1" 2>&1) || {
		tap_diag "mta_fix.py: $out"
		return 1
	}
	tap_diag "applied: $(tr '\n' ';' <<<"$out")"
	pf__cool_main_cf
	pf_reload
}

check_profile() {
	local p=$1 json rc before real check out
	local -a ex=()
	if ! pfh_hole "$p"; then
		tap_fail "$p: Postfix reloads with the hole (see the reason above)"
		return
	fi
	read -r -a ex <<<"$PFH_EXPLOIT"
	# 1. the truth
	[ -n "$PFH_EXPLOIT" ] && tap_is "$(pfh_real 127.0.0.2)" refused \
		"$p: a plain message from the outsider is refused"
	real=$(pfh_real 127.0.0.2 "${ex[@]}")
	tap_is "$real" relayed "$p: a real message from the outsider${PFH_EXPLOIT:+ ($PFH_EXPLOIT)} is relayed"
	tap_check "$p: local mail from the outsider is delivered" pfh_local_ok 127.0.0.2

	# 2. the audit agrees and completes nothing
	before=$(pf_sink_count)
	json=$(audit) && rc=0 || rc=$?
	tap_diag "$p: $(jq -r '"\(.verdict): \(.verdict_reason)"' <<<"$json" 2>/dev/null)"
	tap_is "$(jq -r .mta <<<"$json")" Postfix "$p: the audit names Postfix"
	tap_is "$(jq -r .verdict <<<"$json")" open_relay "$p: the audit agrees (open_relay)"
	tap_is "$rc" 2 "$p: audit exit status 2"
	pf_flush >/dev/null 2>&1 || true
	pf_wait_queue_empty 10 || tap_diag "$p: the queue is not empty: $(pf_queue_count)"
	tap_is "$(pf_sink_count)" "$before" "$p: the audit completed no message"
	tap_is "$(jq -c .remedy.holes <<<"$json")" "[\"$PFH_HOLE\"]" "$p: the remedy is for the $PFH_HOLE hole"

	# 3. the remedy names the setting; its check shows where the hole is
	tap_like "$(jq -c .remedy.steps <<<"$json")" "$PFH_SETTING" "$p: the JSON remedy names $PFH_SETTING"
	check=$(jq -r '.remedy.steps[0].check' <<<"$json")
	out=$(pfh_run_check "$check")
	tap_diag "$p: check: ${check%%; then *}" "$out"
	tap_unlike "$out" 'fatal|warning|unknown|command not found' "$p: the check command runs cleanly"
	tap_isnt "$(grep -E -- "$PFH_SHOWS" <<<"$out")" "" "$p: the check command prints the line of the hole"

	# 4. the remedy, applied literally, closes the hole
	if ! tap_check "$p: the JSON remedy applies literally and Postfix reloads" apply_remedy "$json"; then
		return
	fi
	tap_is "$(postconf -c "$PF_CONF" -n 2>&1 >/dev/null)" "" "$p: postconf -n warns about nothing afterwards"
	json=$(audit) && rc=0 || rc=$?
	tap_is "$(jq -r .verdict <<<"$json")" closed "$p: after the remedy the re-audit says closed"
	tap_is "$rc" 0 "$p: re-audit exit status 0"
	tap_is "$(pfh_real 127.0.0.2 "${ex[@]}")" refused "$p: after the remedy the real message through the hole is refused"
	tap_check "$p: after the remedy local mail from the outsider is delivered" pfh_local_ok 127.0.0.2
	tap_is "$(pfh_real 127.0.0.1)" relayed "$p: after the remedy the trusted host still relays"
	out=$(pfh_run_check "$check")
	tap_is "$(grep -E -- "$PFH_SHOWS" <<<"$out")" "" "$p: the check command no longer prints the line of the hole"
}

# One Postfix for every profile: pfh_hole resets it to "closed" first.
pfh_boot || tap_bail "cannot start Postfix (closed)"
for p in $PFH_PROFILES; do
	check_profile "$p"
done
pf_stop
tap_done
