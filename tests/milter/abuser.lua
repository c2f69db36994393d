-- tests/milter/abuser.lua - the penalty box over the milter protocol, driven
-- by miltertest(8): an authenticated client ({auth_authen}, which the
-- private Postfix cannot produce without SASL) is never counted nor boxed,
-- even from a boxed network. Run by tests/integration/204_milter_miltertest.sh
-- with RG_MILTER_SOCKET set; prints one TAP line per check.
--
-- The milter's config (written by the shell script):
--   Mode enforce, TrustedNetworks 127.0.0.1/32, LocalDomains site.example
--   AbuserThreshold 2, AbuserPrefix4 24

local T = dofile("tests/milter/tap.lua")
local sock, check = T.sock, T.check

local REJ, CONT = SMFIR_REPLYCODE, SMFIR_CONTINUE

-- One transaction: client ip, auth id or nil, the reply MAIL FROM must
-- get, then (when MAIL passed) each recipient with the reply it must get.
local function session(ip, auth, want_mail, rcpts, what)
	local conn = mt.connect(sock, 20, 0.1)
	if conn == nil then
		error("cannot connect to " .. sock)
	end
	if mt.conninfo(conn, "client.example", ip) ~= nil then
		error "mt.conninfo() failed"
	end
	if mt.helo(conn, "client.example") ~= nil then
		error "mt.helo() failed"
	end
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", "5AbCd1", "{auth_authen}", auth,
		    "{auth_type}", "PLAIN")
	else
		mt.macro(conn, SMFIC_MAIL, "i", "5AbCd1")
	end
	if mt.mailfrom(conn, "<sender@other.example>") ~= nil then
		error "mt.mailfrom() failed"
	end
	local got = mt.getreply(conn)
	check(got == want_mail, ip .. " auth=" .. tostring(auth) .. " MAIL FROM -> " .. what)
	if got == CONT then
		for _, r in ipairs(rcpts) do
			if mt.rcptto(conn, r[1]) ~= nil then
				error("mt.rcptto() failed for " .. r[1])
			end
			check(mt.getreply(conn) == r[2], ip .. " auth=" .. tostring(auth) ..
			    " RCPT TO:" .. r[1] .. " -> " .. r[3])
		end
	end
	mt.disconnect(conn)
end

-- an authenticated user relays many times: never counted
for i = 1, 3 do
	session("127.0.0.5", "alice", CONT, {
		{"<victim" .. i .. "@victim.example>", CONT, "authenticated relay accepted"},
	}, "accepted")
end
session("127.0.0.6", nil, CONT, {{"<user@site.example>", CONT, "local mail"}},
    "the /24 is not boxed by authenticated relaying")
-- an outsider in the same /24 makes 2 refused attempts: the /24 is boxed
session("127.0.0.7", nil, CONT, {
	{"<victim@victim.example>", REJ, "relay refused"},
	{"<victim2@victim.example>", REJ, "relay refused, the /24 boxed"},
}, "accepted before the box")
session("127.0.0.7", nil, REJ, {}, "refused: boxed")
-- an authenticated user from the boxed /24 still sends
session("127.0.0.5", "alice", CONT, {
	{"<victim4@victim.example>", CONT, "authenticated relay accepted from a boxed /24"},
}, "accepted: authenticated clients are never boxed")

T.done()
