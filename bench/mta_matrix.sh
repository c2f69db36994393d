#!/bin/bash
# bench/mta_matrix.sh - relayguard-audit and nmap's smtp-open-relay, side by
# side, against every real MTA and profile of the test harness: Postfix
# (tests/lib/postfix.sh; its hole profiles: tests/lib/postfix_holes.sh), Exim,
# OpenSMTPD, sendmail, Courier and Haraka (tests/lib/mta.sh).
#
#   BUILD=build bash bench/mta_matrix.sh        (root; after make deps, make)
#   MATRIX_KINDS="courier" ...                  only the rows of those kinds
#
# Runs in a private network namespace with only "lo" (it re-executes itself
# under unshare -n). Both tools connect from 127.0.0.2, an address no
# profile trusts, to the MTA on 127.0.0.1; the probe domain is
# victim.example. For each (MTA, profile) it prints:
#   truth     a real message from 127.0.0.2 using the profile's hole (see
#             HOLE below): "relays" when it reached the next hop (smtp-sink)
#   relayguard verdict, relay probes accepted / total, untested, seconds
#   nmap      "open N/16" or "not open" (or what nmap printed), seconds
# and a last column "agree" telling whether each tool's open/not-open
# matches the truth. Output: a Markdown table on stdout, progress on stderr.
set -u
if [ -z "${RG_BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ]; then
	export RG_BENCH_NETNS=1
	exec unshare -n -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
AUDIT=$BUILD/relayguard-audit
[ -x "$AUDIT" ] || { echo "mta_matrix: $AUDIT not built (make)" >&2; exit 1; }
command -v nmap >/dev/null || { echo "mta_matrix: nmap missing (make deps)" >&2; exit 1; }
source tests/lib/common.sh
source tests/lib/postfix.sh
source tests/lib/exim.sh
source tests/lib/opensmtpd.sh
source tests/lib/sendmail.sh
source tests/lib/courier.sh
source tests/lib/haraka.sh
source tests/lib/postfix_holes.sh

# KIND PROFILE HOLE(swaks options the truth message uses; for the Postfix
# hole profiles those of tests/lib/postfix_holes.sh)
ROWS=(
	"postfix closed -"
	"postfix open -"
	"postfix sender -"
	"postfix sender_legacy -"
	"postfix helo -"
	"postfix wide -"
	"postfix style -"
	"postfix master_sender -"
	"postfix master_wide -"
	"postfix backup_mx -"
	"exim closed -"
	"exim open -"
	"exim sender --from x@site.example"
	"exim percent --to victim%victim.example@site.example"
	"opensmtpd closed -"
	"opensmtpd open -"
	"opensmtpd sender --from x@site.example"
	"opensmtpd helo --helo mail.site.example"
	"sendmail closed -"
	"sendmail open -"
	"sendmail sender --from x@site.example"
	"courier closed -"
	"courier open -"
	"courier network -"
	"courier closed+TARPIT=0 -"
	"courier network+TARPIT=0 -"
	"haraka closed -"
	"haraka open -"
	"haraka dest_domains --to postmaster@site.example,victim@victim.example"
	"haraka acl -"
)

now_ms() { rg_now_ms; }
secs() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

truth_postfix() {
	local before rc
	before=$(pf_sink_count)
	pf_swaks --local-interface 127.0.0.2 --from x@outside.example --to victim@victim.example "$@" \
		>/dev/null 2>&1 && rc=0 || rc=$?
	[ "$rc" = 0 ] || { echo refused; return; }
	pf_flush >/dev/null 2>&1
	if pf_wait_sink_count $((before + 1)) 10; then echo relays; else echo accepted-not-relayed; fi
}

printf '| MTA | profile | truth (real message) | relayguard-audit verdict | probes accepted | untested | time s | nmap smtp-open-relay | time s | agree (rg / nmap) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for row in "${ROWS[@]}"; do
	read -r kind profile hole <<<"$row"
	# MATRIX_KINDS="courier exim": only those kinds' rows.
	[ -n "${MATRIX_KINDS:-}" ] && [[ " $MATRIX_KINDS " != *" $kind "* ]] && continue
	hole_args=()
	[ "$hole" != - ] && read -r -a hole_args <<<"$hole"
	echo "mta_matrix: $kind $profile" >&2
	what=$profile
	# PROFILE+LINE: the profile with LINE appended to the MTA's settings
	# (Courier's esmtpd: TARPIT=0 turns Debian's tarpit off)
	extra=
	[[ $profile == *+* ]] && extra=${profile#*+} profile=${profile%%+*} what="$profile (\`$extra\`)"
	if [ "$kind" = postfix ] && [ "$profile" = backup_mx ]; then
		# relay_domains covers the audit domain (a backup MX for it): it
		# relays to victim.example only, not an open relay (tests/168)
		PF_MAIN_EXTRA="relay_domains = victim.example" pf_start closed >&2 ||
			{ echo "| Postfix | $profile | (did not start) |||||||" ; continue; }
		port=$PF_PORT version="Postfix $(postconf -dh mail_version)"
		what="backup_mx (\`relay_domains = victim.example\`, the audit's -d domain)"
	elif [ "$kind" = postfix ] && [[ " $PFH_PROFILES " == *" $profile "* ]]; then
		pfh_start "$profile" >&2 || { echo "| Postfix | $profile | (did not start) |||||||" ; continue; }
		port=$PF_PORT version="Postfix $(postconf -dh mail_version)" what="$profile ($PFH_WHAT)"
		[ -n "$PFH_EXPLOIT" ] && read -r -a hole_args <<<"$PFH_EXPLOIT" && hole=$PFH_EXPLOIT
	elif [ "$kind" = postfix ]; then
		pf_start "$profile" >&2 || { echo "| Postfix | $profile | (did not start) |||||||" ; continue; }
		port=$PF_PORT version="Postfix $(postconf -dh mail_version)"
	else
		MTA_EXTRA=$extra mta_start "$kind" "$profile" >&2 || { echo "| $kind | $profile | (did not start) |||||||"; continue; }
		port=$MTA_PORT version=$MTA_VERSION
	fi
	t0=$(now_ms)
	json=$("$AUDIT" -s 127.0.0.2 -p "$port" -d victim.example -t 10 -f json 127.0.0.1 2>/dev/null)
	rg_ms=$(($(now_ms) - t0))
	verdict=$(jq -r .verdict <<<"$json")
	acc=$(jq -r '[.tests[] | select(.control|not) | select(.outcome=="accepted")] | length' <<<"$json")
	tot=$(jq -r '[.tests[] | select(.control|not)] | length' <<<"$json")
	unt=$(jq -r '.untested // 0' <<<"$json")
	t0=$(now_ms)
	nm=$(nmap -Pn -n -e lo -S 127.0.0.2 -p "$port" --script +smtp-open-relay \
		--script-args smtp-open-relay.domain=victim.example 127.0.0.1 2>&1)
	nm_ms=$(($(now_ms) - t0))
	if [[ $nm =~ Server\ is\ an\ open\ relay\ \(([0-9]+/[0-9]+)\ tests\) ]]; then
		nmv="open ${BASH_REMATCH[1]}"
	elif grep -q "Server doesn.t seem to be an open relay" <<<"$nm"; then
		nmv="not open"
	else
		nmv="($(grep -m1 -E 'smtp-open-relay|ERROR|Failed' <<<"$nm" | tr -d '|' | sed 's/^ *//' | cut -c1-60))"
	fi
	if [ "$kind" = postfix ] && [ "$profile" = backup_mx ]; then
		# the truth: one message to the -d domain, one to a third domain
		truth="$(truth_postfix) to victim.example, $(truth_postfix --to victim@example.net) to example.net"
		pf_stop
	elif [ "$kind" = postfix ]; then
		truth=$(truth_postfix "${hole_args[@]}")
		pf_stop
	else
		truth=$(mta_relays_real 127.0.0.2 "${hole_args[@]}")
		[ "$truth" = relayed ] && truth=relays
		mta_stop
	fi
	[ "$hole" != - ] && truth="$truth ($hole)"
	t_open=no
	[[ $truth == relays* ]] && t_open=yes
	[[ $truth == *refused\ to\ example.net ]] && t_open=no	# one domain only
	rg_open=no
	[ "$verdict" = open_relay ] && rg_open=yes
	nm_open=no
	[[ $nmv == open* ]] && nm_open=yes
	ag_rg=yes ag_nm=yes
	[ "$rg_open" = "$t_open" ] || ag_rg=NO
	[ "$nm_open" = "$t_open" ] || ag_nm=NO
	printf '| %s | %s | %s | %s | %s/%s | %s | %s | %s | %s | %s / %s |\n' "$version" "$what" "$truth" \
		"$verdict" "$acc" "$tot" "$unt" "$(secs "$rg_ms")" "$nmv" "$(secs "$nm_ms")" "$ag_rg" "$ag_nm"
done
echo
echo "relayguard-audit: $AUDIT -s 127.0.0.2 -d victim.example -t 10 -f json; nmap $(nmap --version | head -n 1 | awk '{print $3}'):" \
	"nmap -Pn -n -e lo -S 127.0.0.2 --script +smtp-open-relay (+: the MTAs are not on port 25) --script-args smtp-open-relay.domain=victim.example;" \
	"$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg) at the end"
