-- tests/milter/tap.lua - what the miltertest(8) scripts share, loaded with
-- dofile("tests/milter/tap.lua") (miltertest runs from the tree's top): the
-- milter's socket from RG_MILTER_SOCKET, and TAP lines for the shell test
-- (tests/milter/lib.sh ml_miltertest) to re-emit.
local T = {n = 0, failed = 0}

T.sock = os.getenv("RG_MILTER_SOCKET")
if T.sock == nil then
	error "RG_MILTER_SOCKET is not set"
end

function T.check(ok, desc)
	T.n = T.n + 1
	if not ok then
		T.failed = T.failed + 1
	end
	mt.echo((ok and "ok " or "not ok ") .. T.n .. " - " .. desc)
end

-- The plan; an error (a non-zero exit) when a check failed.
function T.done()
	mt.echo("1.." .. T.n)
	if T.failed > 0 then
		error(T.failed .. " check(s) failed")
	end
end

return T
