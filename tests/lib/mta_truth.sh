# shellcheck shell=bash disable=SC2034
# tests/lib/mta_truth.sh - the truth of one (MTA, profile) and relayguard-audit
# against it, as TAP checks, for the MTA families whose remedies are not
# proven yet (Haraka, Courier: issue 17); tests/lib/mta_check.sh adds the fix
# for the others.
#
#   mta_truth KIND PROFILE TRUTH [EXPLOIT]
#       starts the MTA; one real message from the outsider (127.0.0.2)
#       establishes the truth (relayed | refused; EXPLOIT: swaks options,
#       word-split, that use the profile's hole, after a plain message that
#       must be refused); local mail from the outsider is delivered; then
#       the audit: it names the MTA, completes no message (the next hop's
#       count is unchanged) and its verdict and exit status agree with the
#       truth. Leaves the MTA running (the caller adds checks, then
#       mta_stop) and the report in MTA_TRUTH_JSON. Status 1 when the MTA
#       did not start.
#   Knobs: MTA_TRUTH_TODO   reason: the verdict checks are TAP TODO (a known
#                           defect of today's relayguard-audit)
#          MTA_TRUTH_ARGS   more relayguard-audit options
#          MTA_TRUTH_TAG    the checks' prefix (default "KIND PROFILE")
# Needs tap.sh, the KIND's tests/lib file sourced, $AUDIT.

mta_truth__name() {
	case $1 in
	haraka) echo Haraka ;;
	courier) echo Courier ;;
	*) echo "$1" ;;
	esac
}

mta_truth() {
	local kind=$1 profile=$2 truth=$3 exploit=${4:-} real want rc before t0 secs
	local tag="${MTA_TRUTH_TAG:-$kind $profile}"
	local -a ex=() more=()
	MTA_TRUTH_JSON=
	if ! mta_start "$kind" "$profile"; then
		tap_fail "$tag: the MTA starts (see the reason above)"
		return 1
	fi
	tap_ok "$tag: $MTA_VERSION runs on 127.0.0.1:$MTA_PORT, next hop $MTA_SINK_HOST:$MTA_SINK_PORT"

	if [ -n "$exploit" ]; then
		read -r -a ex <<<"$exploit"
		tap_is "$(mta_relays_real 127.0.0.2)" refused \
			"$tag: a plain message from an outside address is refused"
	fi
	real=$(mta_relays_real 127.0.0.2 "${ex[@]}")
	tap_is "$real" "$truth" "$tag: a real message from an outside address${exploit:+ using the hole ($exploit)} is $truth"
	tap_check "$tag: local mail from the outsider is delivered" mta_local_ok 127.0.0.2

	before=$(mta_sink_count)
	read -r -a more <<<"${MTA_TRUTH_ARGS:-}"
	t0=$(rg_now_ms)
	MTA_TRUTH_JSON=$("$AUDIT" -s 127.0.0.2 -p "$MTA_PORT" -d victim.example -t 10 \
		"${more[@]}" -f json 127.0.0.1) && rc=0 || rc=$?
	secs=$((($(rg_now_ms) - t0) / 1000))
	tap_diag "$tag: audit verdict $(jq -r .verdict <<<"$MTA_TRUTH_JSON" 2>/dev/null) (exit $rc) in ${secs}s:" \
		"$(jq -r .verdict_reason <<<"$MTA_TRUTH_JSON" 2>/dev/null)"
	tap_is "$(jq -r .mta <<<"$MTA_TRUTH_JSON" 2>/dev/null)" "$(mta_truth__name "$kind")" \
		"$tag: the audit fingerprints $(mta_truth__name "$kind")"
	mta_flush >/dev/null 2>&1 || true
	sleep 2
	tap_is "$(mta_sink_count)" "$before" "$tag: the audit completed no message (next hop count unchanged)"

	case $real in
	relayed) want=open_relay ;;
	refused) want=closed ;;
	*) want="?" ;;
	esac
	TAP_TODO=${MTA_TRUTH_TODO:-}
	tap_is "$(jq -r .verdict <<<"$MTA_TRUTH_JSON" 2>/dev/null)" "$want" \
		"$tag: the audit agrees with the real message ($real -> $want)"
	case $want in
	open_relay) tap_is "$rc" 2 "$tag: audit exit status 2" ;;
	closed) tap_is "$rc" 0 "$tag: audit exit status 0" ;;
	esac
	unset TAP_TODO
	return 0
}
