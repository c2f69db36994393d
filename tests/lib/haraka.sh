# shellcheck shell=bash disable=SC2034
# tests/lib/haraka.sh - a private, real Haraka (the npm package, installed by
# scripts/mta-unpack.sh into $RG_MTA_DIR/haraka) on loopback:
# mta_start haraka PROFILE. The common interface is documented in
# tests/lib/mta.sh.
#
# The instance is what `haraka -i` lays out (config/ with the stock plugin
# list mail_from.is_resolvable, rcpt_to.in_host_list, queue/smtp_forward),
# with the relay plugin first in config/plugins, as its README asks. $MTA_CONF
# is config/relay.ini, the file whose settings open Haraka. Changed for the
# harness: listen on 127.0.0.1:$MTA_PORT, one process (no cluster), foreground
# (its log is its stdout, $MTA_LOG); host_list and me name site.example and
# mail.site.example; smtp_forward hands every message, local or relayed
# (enable_outbound=true: Haraka's own outbound delivery never runs), to the
# sink on 127.0.0.3. That sink is the site's back end, the usual Haraka
# set-up: a message whose recipients are all local (site.example) is local
# mail (mta_mailbox_count root counts those to postmaster@), any other is
# relayed (mta_sink_count counts only those).
#
# mail_from.is_resolvable needs DNS: a private NSD (tests/lib/dns.sh) on
# 127.0.0.1 serves site.example, outside.example and victim.example, each with
# an MX whose address is 127.0.0.3, and is the only nameserver in Haraka's
# namespace (resolv.conf "nameserver 127.0.0.1:PORT"). Because every MX is on
# loopback, the plugin's re_bogus_ip drops 127/8 from its list of bogus MX
# addresses; nothing else of it changes (an address literal sender still gets
# its stock "450 Temp. resolver error").
# Profiles (relay.ini, relay_acl_allow, relay_dest_domains.ini):
#   closed        [relay] acl=true, relay_acl_allow 127.0.0.1/32 (the host
#                 itself)
#   open          closed plus [relay] all=true
#   dest_domains  closed plus [relay] dest_domains=true and site.example with
#                 action "continue" in relay_dest_domains.ini: a local
#                 recipient marks the transaction as relaying, so a later
#                 RCPT to any domain in the same transaction is relayed
#   acl           closed, but relay_acl_allow is 127.0.0.0/8 (a network too
#                 wide: the outsider 127.0.0.2 is in it)

. "$(dirname "${BASH_SOURCE[0]}")/mta.sh"
. "$(dirname "${BASH_SOURCE[0]}")/dns.sh"

HK_TREE=$RG_MTA_DIR/haraka
HK_BIN=$HK_TREE/node_modules/Haraka/bin/haraka

haraka__check_profile() {
	case $1 in
	closed | open | dest_domains | acl) return 0 ;;
	esac
	rg_diag "mta_start haraka: PROFILE must be closed, open, dest_domains or acl, not '$1'"
	return 1
}

haraka__zones() {	# write the three zones into $MTA_DIR/dns
	local z
	mkdir -p "$MTA_DIR/dns"
	for z in "$MTA_DOMAIN" outside.example victim.example; do
		cat >"$MTA_DIR/dns/$z.zone" <<EOF
\$ORIGIN $z.
\$TTL 300
@	IN SOA	ns.$z. hostmaster.$z. 1 3600 600 86400 60
@	IN NS	ns.$z.
ns	IN A	127.0.0.1
@	IN MX	10 mx.$z.
mx	IN A	$MTA_SINK_HOST
EOF
	done
	cat >>"$MTA_DIR/dns/$MTA_DOMAIN.zone" <<EOF
mail	IN A	127.0.0.1
mail	IN MX	10 mx.$MTA_DOMAIN.
EOF
}

haraka__dns() {	# one NSD per test run, shared by its instances
	if [ -z "${DNS_PID:-}" ] || ! rg_pid_alive "$DNS_PID"; then
		haraka__zones
		dns_start "$MTA_DIR/dns/$MTA_DOMAIN.zone" "$MTA_DIR/dns/outside.example.zone" \
			"$MTA_DIR/dns/victim.example.zone" || return 1
	fi
	printf 'nameserver 127.0.0.1:%s\noptions attempts:1 timeout:1\n' "$DNS_PORT" \
		>"$MTA_DIR/ns/resolv.conf"
}

haraka__setup() {
	local d=$MTA_DIR/haraka c acl=127.0.0.1/32 relay='acl=true'
	MTA_VERSION="Haraka $(jq -r .version "$HK_TREE/node_modules/Haraka/package.json" 2>/dev/null)"
	[ -x "$HK_BIN" ] || { rg_diag "haraka: no $HK_BIN (run make deps)"; return 1; }
	haraka__dns || return 1
	node "$HK_BIN" -i "$d" >"$MTA_DIR/start.log" 2>&1 || return 1
	c=$d/config
	MTA_CONF=$c/relay.ini
	case $MTA_PROFILE in
	open) relay="acl=true
all=true" ;;
	dest_domains) relay="acl=true
dest_domains=true"
		printf '[domains]\n%s = { "action": "continue" }\n' "$MTA_DOMAIN" \
			>"$c/relay_dest_domains.ini" ;;
	acl) acl=127.0.0.0/8 ;;
	esac
	printf '; profile "%s" (tests/lib/haraka.sh)\n[relay]\n%s\n' "$MTA_PROFILE" "$relay" >"$MTA_CONF"
	echo "$acl" >"$c/relay_acl_allow"
	printf 'relay\n%s\n' "$(grep -v '^[#[:space:]]' "$c/plugins" | grep -v '^relay$')" >"$c/plugins.new"
	mv "$c/plugins.new" "$c/plugins"
	printf '[main]\nlisten=%s:%s\n' "$MTA_HOST" "$MTA_PORT" >"$c/smtp.ini"
	echo "$MTA_HOSTNAME" >"$c/me"
	printf '%s\n%s\n' "$MTA_DOMAIN" "$MTA_HOSTNAME" >"$c/host_list"
	printf '[main]\nhost=%s\nport=%s\nenable_outbound=true\n' "$MTA_SINK_HOST" "$MTA_SINK_PORT" \
		>"$c/smtp_forward.ini"
	printf '[main]\nre_bogus_ip=^(?:0\\.0\\.0\\.0|255\\.255\\.255\\.255)$\n\n[reject]\nno_mx=deny\n' \
		>"$c/mail_from.is_resolvable.ini"
	printf '[main]\nlevel=info\ntimestamps=true\n' >"$c/log.ini"
	haraka__rebuild
}

haraka__rebuild() { :; }	# Haraka reads its config when it starts

haraka__launch() {
	(
		MTA_NS_EXEC=1 mta__ns node "$HK_BIN" -c "$MTA_DIR/haraka" >>"$MTA_LOG" 2>&1 </dev/null &
		echo $! >"$MTA_DIR/haraka.pid"
	)
	MTA_PID=$(cat "$MTA_DIR/haraka.pid")
	rg_retry 20 rg__listening_on "$MTA_HOST" "$MTA_PORT" tcp
}

haraka__queue_count() { echo 0; }	# smtp_forward hands on in the session
haraka__flush() { :; }

# The sink's messages whose recipients are (local) all at site.example, or
# (relayed) not: smtp-sink -d writes each envelope recipient as X-Rcpt-Args.
haraka__sink_files() {	# local | relayed
	local f
	find "$MTA_SINK_DIR" -type f ! -name '.*' 2>/dev/null | while IFS= read -r f; do
		if grep -i '^X-Rcpt-Args:' "$f" | grep -qiv "@\(mail\.\)\?$MTA_DOMAIN>"; then
			[ "$1" = relayed ] && echo "$f"
		else
			[ "$1" = local ] && echo "$f"
		fi
	done
}

haraka__sink_count() {
	local n
	n=$(haraka__sink_files relayed | wc -l) || true
	echo $((n))
}

haraka__mailbox_count() {	# USER: root is postmaster's mailbox
	local n
	[ "$1" = root ] || { echo 0; return; }
	n=$(haraka__sink_files local | xargs -r grep -li '^X-Rcpt-Args:.*postmaster@' | wc -l) || true
	echo $((n))
}
