#!/bin/bash
# scripts/demo.sh - run by `make demo`. Audits a private Postfix configured
# as an open relay and one configured correctly, on loopback only, and shows
# both reports. The evidence stays in $DEMO_OUT (default ./demo-out).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
AUDIT=$BUILD/relayguard-audit
OUT=${DEMO_OUT:-$PWD/demo-out}
mkdir -p "$OUT"
source tests/lib/postfix.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

audit_profile() {	# PROFILE: start Postfix, audit from an untrusted address, stop
	local prof=$1 rc=0
	pf_start "$prof" >/dev/null || { echo "demo: cannot start Postfix ($prof)" >&2; exit 1; }
	say "Postfix ($prof profile) on 127.0.0.1:$PF_PORT: $(postconf -c "$PF_CONF" -h mynetworks | sed 's/^/mynetworks = /')"
	echo "relayguard-audit -s 127.0.0.2 -p $PF_PORT -d victim.example 127.0.0.1"
	"$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -T 127.0.0.1 > "$OUT/audit-$prof.txt" || rc=$?
	"$AUDIT" -s 127.0.0.2 -p "$PF_PORT" -d victim.example -T -f json 127.0.0.1 > "$OUT/audit-$prof.json" || true
	sed -n '1,/^  C2/p' "$OUT/audit-$prof.txt" | head -12
	echo "  ... ($(grep -c '^  [A-Z][0-9]' "$OUT/audit-$prof.txt") probes, full report in $OUT/audit-$prof.txt)"
	sed -n '/^Verdict:/,/^$/p;/^Recommended fix/,/^$/p' "$OUT/audit-$prof.txt"
	echo "exit status $rc; messages that reached the next hop during the audit: $(pf_sink_count)"
	pf_stop
	return 0
}

say "relayguard demo: is this mail server an open relay?"
echo "Two private Postfix instances on loopback; the auditor connects from 127.0.0.2,"
echo "an address neither of them trusts, as a stranger on the Internet would."
audit_profile open
audit_profile closed
say "Evidence written to $OUT"
ls -1 "$OUT"
