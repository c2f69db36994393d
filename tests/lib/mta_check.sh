# tests/lib/mta_check.sh - the three-way agreement for one (MTA, profile), as
# TAP checks: a real message establishes the truth, relayguard-audit must
# agree with it and relay nothing, and where it finds a hole its fix, applied
# literally, must make both the re-audit and the real message come out
# refused while local mail and the trusted host still work.
#
#   mta_check KIND PROFILE TRUTH
#       TRUTH is what this profile is built to do with an outsider's message
#       (relayed | refused); the real message checks it too, so a harness
#       that stopped building the hole fails here, not silently.
#   Knobs: MTA_CHECK_TODO_AUDIT  reason: the audit's verdict checks are TAP
#                                TODO (work of another branch not landed)
#          MTA_CHECK_TODO_FIX    reason: the fix checks are TAP TODO
# Needs tap.sh, the KIND's tests/lib file sourced, $AUDIT.
# The outsider is 127.0.0.2 (not trusted by any profile), the trusted host
# 127.0.0.1; probes go to victim.example.

mta_check__audit() {	# prints the JSON report; exit status of the audit
	"$AUDIT" -s 127.0.0.2 -p "$MTA_PORT" -d victim.example -t 10 -f json 127.0.0.1
}

mta_check__verdict_of_truth() {
	case $1 in
	relayed) echo open_relay ;;
	refused) echo closed ;;
	*) echo "?" ;;
	esac
}

mta_check() {
	local kind=$1 profile=$2 truth=$3 json rc verdict real want name fix t0 secs
	local tag="$kind $profile"
	case $kind in
	sendmail) name=sendmail ;;
	exim) name=Exim ;;
	opensmtpd) name=OpenSMTPD ;;
	esac
	if ! mta_start "$kind" "$profile"; then
		tap_fail "$tag: the MTA starts (see the reason above)"
		return 1
	fi
	tap_ok "$tag: $MTA_VERSION runs on 127.0.0.1:$MTA_PORT, next hop $MTA_SINK_HOST:$MTA_SINK_PORT"

	# 1. the audit, before any real message, so the sink counts only it
	t0=$(rg_now_ms)
	json=$(mta_check__audit) && rc=0 || rc=$?
	secs=$((($(rg_now_ms) - t0) / 1000))
	verdict=$(jq -r .verdict <<<"$json" 2>/dev/null)
	tap_diag "$tag: audit verdict $verdict (exit $rc) in ${secs}s; accepted relay probes:" \
		"$(jq -r '[.tests[] | select(.outcome=="accepted" and (.control|not)) | .id] | join(" ")' <<<"$json" 2>/dev/null)"
	tap_is "$(jq -r .mta <<<"$json" 2>/dev/null)" "$name" "$tag: the audit fingerprints $name"
	mta_flush >/dev/null 2>&1 || true
	sleep 2
	tap_is "$(mta_sink_count)" 0 "$tag: nothing reached the next hop during the audit (sink count 0)"

	# 2. the truth: one real message from the outsider
	real=$(mta_relays_real 127.0.0.2)
	tap_is "$real" "$truth" "$tag: a real message from an outside address is $truth"
	want=$(mta_check__verdict_of_truth "$real")

	# 3. agreement
	TAP_TODO=${MTA_CHECK_TODO_AUDIT:-}
	tap_is "$verdict" "$want" "$tag: the audit agrees with the real message ($real -> $want)"
	case $want in
	open_relay) tap_is "$rc" 2 "$tag: audit exit status 2" ;;
	closed) tap_is "$rc" 0 "$tag: audit exit status 0" ;;
	esac
	unset TAP_TODO
	tap_check "$tag: local mail from the outsider is delivered" mta_local_ok 127.0.0.2

	# 4. the fix, where a hole was found
	if [ "$verdict" = open_relay ]; then
		fix=$(jq -r .recommended_fix <<<"$json")
		tap_diag "$tag: applying the recommended fix:" "$fix"
		TAP_TODO=${MTA_CHECK_TODO_FIX:-}
		if tap_check "$tag: the fix applies literally and the MTA restarts with it" mta_apply_fix "$fix"; then
			json=$(mta_check__audit) && rc=0 || rc=$?
			tap_is "$(jq -r .verdict <<<"$json")" closed "$tag: after the fix the re-audit says closed"
			tap_is "$(mta_relays_real 127.0.0.2)" refused "$tag: after the fix the real message is refused"
			tap_check "$tag: after the fix local mail is still delivered" mta_local_ok 127.0.0.2
			tap_is "$(mta_relays_real 127.0.0.1)" relayed "$tag: after the fix the trusted host still relays"
		fi
		unset TAP_TODO
	fi
	mta_stop
	return 0
}
