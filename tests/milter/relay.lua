-- tests/milter/relay.lua - relayguard-milter's relay policy over the milter
-- protocol, driven by miltertest(8) (no MTA): the {auth_authen} case that
-- needs SASL in Postfix, {rcpt_mailer} = error, trusted and untrusted
-- clients. Run by tests/integration/204_milter_miltertest.sh, which starts
-- the milter and sets RG_MILTER_SOCKET; prints one TAP line per check.
--
-- The milter's config (written by the shell script):
--   TrustedNetworks 127.0.0.1/32
--   LocalDomains mail.site.example, site.example

local T = dofile("tests/milter/tap.lua")
local sock, check = T.sock, T.check

-- One SMTP session: client ip, optional auth id, optional rcpt_mailer,
-- then each recipient with the reply it must get.
local function session(ip, auth, mailer, rcpts)
	local conn = mt.connect(sock, 20, 0.1)
	if conn == nil then
		error("cannot connect to " .. sock)
	end
	if mt.conninfo(conn, "client.example", ip) ~= nil then
		error "mt.conninfo() failed"
	end
	mt.macro(conn, SMFIC_HELO, "{tls_version}", "none")
	if mt.helo(conn, "client.example") ~= nil then
		error "mt.helo() failed"
	end
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", "4XyZq1", "{auth_authen}", auth,
		    "{auth_type}", "PLAIN")
	else
		mt.macro(conn, SMFIC_MAIL, "i", "4XyZq1")
	end
	if mt.mailfrom(conn, "<sender@other.example>") ~= nil then
		error "mt.mailfrom() failed"
	end
	for _, r in ipairs(rcpts) do
		if mailer ~= nil then
			mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", mailer)
		end
		if mt.rcptto(conn, r[1]) ~= nil then
			error("mt.rcptto() failed for " .. r[1])
		end
		local got = mt.getreply(conn)
		check(got == r[2], ip .. " auth=" .. tostring(auth) ..
		    " mailer=" .. tostring(mailer) .. " RCPT TO:" .. r[1] ..
		    " -> " .. r[3])
	end
	mt.disconnect(conn)
end

local REJ, CONT = SMFIR_REPLYCODE, SMFIR_CONTINUE

-- untrusted, not authenticated: relaying refused, local mail accepted
session("127.0.0.2", nil, nil, {
	{"<victim@victim.example>", REJ, "refused"},
	{"<user@site.example>", CONT, "local domain accepted"},
	{"<victim%victim.example@site.example>", REJ, "percent hack refused"},
	{"<\"victim@victim.example\">", REJ, "quoted trick refused"},
	{"<@mail.site.example:victim@victim.example>", REJ, "source route refused"},
	{"<victim.example!victim>", REJ, "bang path refused"},
	{"<postmaster>", CONT, "unqualified postmaster accepted"},
})
-- SMTP AUTH (the {auth_authen} macro at MAIL): may relay
session("127.0.0.2", "alice", nil, {
	{"<victim@victim.example>", CONT, "authenticated relay accepted"},
	{"<victim%victim.example@site.example>", CONT, "authenticated, routing allowed"},
})
-- trusted network: may relay
session("127.0.0.1", nil, nil, {
	{"<victim@victim.example>", CONT, "trusted client relays"},
})
-- the MTA refused the recipient already (SMFIP_RCPT_REJ): only logged
session("127.0.0.2", nil, "error", {
	{"<victim@victim.example>", CONT, "MTA-refused relay attempt logged, not answered"},
})

T.done()
