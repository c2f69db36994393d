#!/bin/bash
# relayguard-milter's counters: known traffic over the milter protocol
# (miltertest, tests/milter/traffic.lua) with SPF and a DNSBL against a real
# NSD on loopback, then GET /metrics with curl (MetricsListen, Prometheus
# text format) must show exact counts: decisions by verdict and basis,
# relay attempts refused/logged, MTA-refused attempts, SPF results, DNSBL
# hits, DNS lookups (histogram count = lookups), milter sessions, config
# reloads; a dead nameserver counts a timeout; SIGUSR2 writes the same
# counters to the log; non-loopback MetricsListen is refused.
source "$(dirname "$0")/../lib/preamble.sh" || exit 1
source tests/lib/dns.sh
source tests/milter/lib.sh

rg_built "$MILTER"
for t in miltertest curl; do
	command -v $t >/dev/null || { tap_skip "metrics" "$t not installed"; tap_done; exit; }
done
dns_start tests/dns/*.zone || tap_bail "cannot start NSD on loopback"
dns_blackhole || tap_bail "cannot start the black-hole UDP port"
MPORT=$(rg_free_port tcp) || tap_bail "no free port"
CONF_DNS="MetricsListen 127.0.0.1:$MPORT
Nameservers $DNS_NS
DNSTimeout 1
DNSRetries 0
SPF yes
DNSBL bl.test"
ml_start "$CONF_DNS" || tap_bail "milter did not start: $(cat "$ML_DIR/milter.log")"
cp "$ML_DIR/relayguard.conf" "$ML_DIR/enforce.conf"
rg_retry 5 rg_wait_port 127.0.0.1 "$MPORT" 1 || tap_bail "no metrics listener: $(cat "$ML_DIR/milter.log")"

traffic() {	# COUNT IP RCPT [FROM] [AUTH] [MAILER]
	RG_MILTER_SOCKET="unix:$ML_SOCK" RG_COUNT=$1 RG_IP=$2 RG_RCPT=$3 RG_FROM=${4:-} \
		RG_AUTH=${5:-} RG_MAILER=${6:-} timeout 60 miltertest -s tests/milter/traffic.lua 2>&1
}
scrape() { curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }
metric() {	# NAME{LABELS}: its value in the last scrape ($M)
	awk -v k="$1" '$1 == k { print $2 }' <<<"$M"
}

tap_is "$(traffic 3 127.0.0.2 '<victim@victim.example>' '<user@pass.mf.test>')" "reject=3 continue=0 other=0" \
	"3 relay attempts from an outsider refused"
tap_is "$(traffic 2 127.0.0.2 '<user@site.example>' '<user@fail.mf.test>')" "reject=0 continue=2 other=0" \
	"2 local deliveries from an outsider accepted"
tap_is "$(traffic 1 127.0.0.1 '<victim@victim.example>')" "reject=0 continue=1 other=0" "1 relay from a trusted client"
tap_is "$(traffic 1 127.0.0.2 '<victim@victim.example>' '' alice)" "reject=0 continue=1 other=0" \
	"1 authenticated relay"
tap_is "$(traffic 2 127.0.0.2 '<victim@victim.example>' '<user@pass.mf.test>' '' error)" "reject=0 continue=2 other=0" \
	"2 relay attempts the MTA refused already (only logged)"

M=$(scrape)
tap_like "$(curl -sS -D - -o /dev/null "http://127.0.0.1:$MPORT/metrics" | tr -d '\r' | grep -i '^content-type')" \
	'text/plain; version=0.0.4' "GET /metrics: Prometheus text format 0.0.4"
tap_is "$(metric 'relayguard_decisions_total{verdict="reject",basis="foreign-domain"}')" 5 "decisions: reject/foreign-domain 5"
tap_is "$(metric 'relayguard_decisions_total{verdict="dunno",basis="local-domain"}')" 2 "decisions: dunno/local-domain 2"
tap_is "$(metric 'relayguard_decisions_total{verdict="permit",basis="trusted-network"}')" 1 "decisions: permit/trusted-network 1"
tap_is "$(metric 'relayguard_decisions_total{verdict="permit",basis="authenticated"}')" 1 "decisions: permit/authenticated 1"
tap_is "$(grep -c '^relayguard_decisions_total{' <<<"$M")" 4 "no other decision series"
tap_is "$(metric 'relayguard_relay_attempts_total{action="refused"}')" 3 "relay attempts refused: 3"
tap_is "$(metric 'relayguard_relay_attempts_total{action="logged"}')" 0 "relay attempts logged (log-only): 0"
tap_is "$(metric relayguard_relay_attempts_refused_by_mta_total)" 2 "MTA-refused relay attempts: 2"
tap_is "$(metric 'relayguard_spf_results_total{result="pass"}') $(metric 'relayguard_spf_results_total{result="fail"}')" "5 2" \
	"SPF results: pass 5, fail 2 (trusted and authenticated clients are not checked)"
tap_is "$(metric 'relayguard_dnsbl_hits_total{action="log"}')" 7 "DNSBL hits: 7 (one per outsider connection)"
tap_is "$(metric relayguard_milter_sessions_total)" 9 "milter sessions: 9"
rg_retry 5 bash -c "curl -s http://127.0.0.1:$MPORT/metrics | grep -qx 'relayguard_milter_sessions_active 0'"
tap_is "$(scrape | awk '$1 == "relayguard_milter_sessions_active" {print $2}')" 0 "no session open now"
lookups=$(metric relayguard_dns_lookups_total)
tap_like "$lookups" '^[1-9][0-9]*$' "DNS lookups sent: $lookups"
tap_is "$(metric relayguard_dns_lookup_duration_seconds_count) $(metric 'relayguard_dns_lookup_duration_seconds_bucket{le="+Inf"}')" \
	"$lookups $lookups" "the latency histogram counts every lookup"
tap_like "$(metric relayguard_dns_cache_hits_total)" '^[1-9][0-9]*$' "repeated lookups came from the cache"
tap_is "$(metric relayguard_dns_timeouts_total)" 0 "no DNS timeout"
tap_like "$(metric relayguard_uptime_seconds)" '^[0-9]+$' "uptime in seconds"
tap_like "$(metric relayguard_start_time_seconds)" "^$(date +%s | cut -c1-7)" "start time: seconds since the epoch"

# --- the host field of every event (task: consistent events) -------------------------
tap_is "$(jq -r 'select(.event=="relay_refused") | .host' "$ML_DIR/events.jsonl" | sort -u)" mx.traffic.example \
	"relay events name the reporting MTA (its j macro) in host"
tap_is "$(jq -r 'select(.event=="milter_start") | .host' "$ML_DIR/events.jsonl")" "$(hostname)" \
	"events without an MTA connection name this host"
tap_is "$(jq -s '[.[] | select((.host // "") == "")] | length' "$ML_DIR/events.jsonl")" 0 "no event without a host"
tap_like "$(grep -m1 'event=relay_refused ' "$ML_DIR/milter.log")" 'event=relay_refused host=mx\.traffic\.example ' \
	"the key=value line carries host= too"

# --- reloads, log-only --------------------------------------------------------------
sed -e 's/^Mode enforce$//' "$ML_DIR/enforce.conf" >"$ML_DIR/relayguard.conf"
echo "Mode log-only" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 grep -q 'reloaded .*mode=log-only' "$ML_DIR/milter.log"
tap_is "$(traffic 1 127.0.0.2 '<victim@victim.example>' '<user@pass.mf.test>')" "reject=0 continue=1 other=0" \
	"log-only: the relay attempt goes through"
echo "Mode relay-everything" >>"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 grep -q 'reload refused' "$ML_DIR/milter.log"
M=$(scrape)
tap_is "$(metric 'relayguard_relay_attempts_total{action="logged"}')" 1 "relay attempts logged (log-only): 1"
tap_is "$(metric 'relayguard_config_reloads_total{result="ok"}') $(metric 'relayguard_config_reloads_total{result="refused"}')" \
	"1 1" "config reloads: 1 ok, 1 refused"

# --- a dead nameserver: a timeout -------------------------------------------------------
sed -e "s/^Nameservers .*/Nameservers $DNS_BLACKHOLE/" -e 's/^DNSTimeout .*/DNSTimeout 0.3/' \
	"$ML_DIR/enforce.conf" >"$ML_DIR/relayguard.conf"
kill -USR1 "$ML_PID"
rg_retry 5 bash -c "curl -s http://127.0.0.1:$MPORT/metrics | grep -qx 'relayguard_config_reloads_total{result=\"ok\"} 2'"
traffic 1 127.0.0.2 '<user@site.example>' '<user@pass.mf.test>' >/dev/null
M=$(scrape)
tap_like "$(metric relayguard_dns_timeouts_total)" '^[1-9][0-9]*$' \
	"a dead nameserver: $(metric relayguard_dns_timeouts_total) lookup(s) timed out"
tap_is "$(metric relayguard_dns_lookup_duration_seconds_count)" "$(metric relayguard_dns_lookups_total)" \
	"timeouts are in the histogram too"

# --- SIGUSR2: the counters to the log -----------------------------------------------------
kill -USR2 "$ML_PID"
tap_check "SIGUSR2 dumps the counters to the log" \
	rg_retry 5 grep -q 'metrics: relayguard_relay_attempts_total{action="refused"} 3$' "$ML_DIR/milter.log"
tap_like "$(grep -c 'metrics: relayguard_' "$ML_DIR/milter.log")" '^[2-9][0-9]$' "one log line per sample"

# --- HTTP edges, config checks ---------------------------------------------------------------
tap_is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")" 404 "GET / is 404"
tap_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "http://127.0.0.1:$MPORT/metrics")" 405 "POST is 405"
printf 'MetricsListen 192.0.2.1:%s\n' "$MPORT" >"$ML_DIR/bad.conf"
tap_like "$("$MILTER" -t -c "$ML_DIR/bad.conf" 2>&1)" "bad.conf:1: .*not a loopback address" \
	"-t refuses a non-loopback MetricsListen with file:line"
printf 'MetricsListen localhost:%s\n' "$MPORT" >"$ML_DIR/bad.conf"
tap_like "$("$MILTER" -t -c "$ML_DIR/bad.conf" 2>&1)" "an address, not a name" "and a host name"
sed -e "s|^Socket .*|Socket unix:$ML_DIR/second.sock|" -e '/^EventLog/d' "$ML_DIR/enforce.conf" >"$ML_DIR/second.conf"
out=$(timeout 20 "$MILTER" -f -c "$ML_DIR/second.conf" 2>&1)
tap_like "$out" "MetricsListen 127.0.0.1:$MPORT: cannot listen there" "a second milter on the same metrics port stops with a clear error"
ml_stop
tap_done
