# shellcheck shell=bash disable=SC2034
# tests/lib/mta_check.sh - the three-way agreement for one (MTA, profile), as
# TAP checks: a real message establishes the truth, relayguard-audit must
# agree with it and relay nothing, and where it finds a hole its fix, applied
# literally, must make both the re-audit and the real message come out
# refused while local mail and the trusted host still work.
#
#   mta_check KIND PROFILE TRUTH [EXPLOIT]
#       TRUTH is what this profile is built to do with an outsider's message
#       (relayed | refused); the real message checks it too, so a harness
#       that stopped building the hole fails here, not silently. EXPLOIT:
#       swaks options (word-split) that make the real message use the
#       profile's hole (a forged local sender, a HELO, a routing recipient);
#       then the plain outside message must be refused and the exploit
#       gives the truth.
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
	local kind=$1 profile=$2 truth=$3 exploit=${4:-} json rc verdict real want name fix t0 secs out
	local -a ex=()
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
	if [ -n "$exploit" ]; then
		read -r -a ex <<<"$exploit"
		tap_is "$(mta_relays_real 127.0.0.2)" refused \
			"$tag: a plain message from an outside address is refused"
		real=$(mta_relays_real 127.0.0.2 "${ex[@]}")
		tap_is "$real" "$truth" "$tag: a real message from an outside address using the hole ($exploit) is $truth"
	else
		real=$(mta_relays_real 127.0.0.2)
		tap_is "$real" "$truth" "$tag: a real message from an outside address is $truth"
	fi
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
		tap_diag "$tag: the recommended fix:" "$fix"
		jq -e .remedy <<<"$json" >/dev/null 2>&1 &&
			tap_diag "$tag: as data:" "$(jq -c .remedy.steps <<<"$json")"
		TAP_TODO=${MTA_CHECK_TODO_FIX:-}
		out=$(mta_apply_fix "$json" 2>&1) && rc=0 || rc=$?
		printf '%s\n' "$out"
		if tap_is "$rc" 0 "$tag: the fix applies literally and the MTA restarts with it"; then
			json=$(mta_check__audit) && rc=0 || rc=$?
			tap_is "$(jq -r .verdict <<<"$json")" closed "$tag: after the fix the re-audit says closed"
			tap_is "$(mta_relays_real 127.0.0.2)" refused "$tag: after the fix the real message is refused"
			[ -n "$exploit" ] && tap_is "$(mta_relays_real 127.0.0.2 "${ex[@]}")" refused \
				"$tag: after the fix the real message using the hole is refused"
			tap_check "$tag: after the fix local mail is still delivered" mta_local_ok 127.0.0.2
			tap_is "$(mta_relays_real 127.0.0.1)" relayed "$tag: after the fix the trusted host still relays"
		fi
		unset TAP_TODO
	fi
	mta_stop
	return 0
}
