-- tests/milter/traffic.lua - known traffic for counting tests, driven by
-- miltertest(8): RG_COUNT sessions from client RG_IP, each one MAIL FROM
-- (RG_FROM, default <sender@other.example>) and one RCPT TO:RG_RCPT, with {auth_authen} = RG_AUTH and
-- {rcpt_mailer} = RG_MAILER when set. Prints "reject=R continue=C other=O"
-- (the milter's replies to RCPT).
local sock = os.getenv("RG_MILTER_SOCKET") or error "RG_MILTER_SOCKET is not set"
local ip = os.getenv("RG_IP") or "127.0.0.2"
local rcpt = os.getenv("RG_RCPT") or "<victim@victim.example>"
local count = tonumber(os.getenv("RG_COUNT") or "1")
local auth = os.getenv("RG_AUTH")
local mailer = os.getenv("RG_MAILER")
local from = os.getenv("RG_FROM") or "<sender@other.example>"
local rej, cont, other = 0, 0, 0

for _ = 1, count do
	local conn = mt.connect(sock, 20, 0.1) or error("cannot connect to " .. sock)
	mt.macro(conn, SMFIC_CONNECT, "j", "mx.traffic.example")
	if mt.conninfo(conn, "client.example", ip) ~= nil then
		error "mt.conninfo() failed"
	end
	if mt.helo(conn, "client.example") ~= nil then
		error "mt.helo() failed"
	end
	if auth ~= nil and auth ~= "" then
		mt.macro(conn, SMFIC_MAIL, "i", "4Traffic", "{auth_authen}", auth)
	else
		mt.macro(conn, SMFIC_MAIL, "i", "4Traffic")
	end
	if mt.mailfrom(conn, from) ~= nil then
		error "mt.mailfrom() failed"
	end
	if mailer ~= nil and mailer ~= "" then
		mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", mailer)
	end
	if mt.rcptto(conn, rcpt) ~= nil then
		error "mt.rcptto() failed"
	end
	local got = mt.getreply(conn)
	if got == SMFIR_REPLYCODE or got == SMFIR_REJECT then
		rej = rej + 1
	elseif got == SMFIR_CONTINUE then
		cont = cont + 1
	else
		other = other + 1
	end
	mt.disconnect(conn)
end
mt.echo("reject=" .. rej .. " continue=" .. cont .. " other=" .. other)
