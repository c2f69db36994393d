#!/usr/bin/env python3
"""tests/soak/client.py - the soak test's SMTP client: sends COUNT messages,
one recipient each, over WORKERS concurrent sessions, and records the
outcome of every message (unlike smtp-source, which stops at the first
refused recipient). Loopback only.

  client.py --port P --count N --out RESULTS [--workers 6] [--base ID0]
            [--trusted 127.0.0.1] [--untrusted 127.0.0.2]
            [--local root@site.example] [--remote-domain victim.example]

Message i (numbered from ID0): from the trusted source when i is even, else the untrusted one;
to the local recipient when (i // 2) is even, else to soak<i>@REMOTE. Each
message carries "X-Soak-Id: <i>" so that the script can find it at its
destination. One line per message in RESULTS:

  <i> <trusted|untrusted> <local|remote> <accepted|refused|tempfailed> <code> <stage>

accepted: 250 after DATA; refused: a 5xx (MAIL, RCPT or DATA); tempfailed:
a 4xx, or the session broke before the final reply (a real client keeps
the message and retries). A session is renewed after a tempfail (Postfix
keeps a failed milter's default action for the rest of the session) and
after 50 messages.
"""
import argparse
import smtplib
import socket
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, required=True)
p.add_argument("--count", type=int, required=True)
p.add_argument("--out", required=True)
p.add_argument("--workers", type=int, default=6)
p.add_argument("--trusted", default="127.0.0.1")
p.add_argument("--untrusted", default="127.0.0.2")
p.add_argument("--local", default="root@site.example")
p.add_argument("--remote-domain", default="victim.example")
p.add_argument("--per-session", type=int, default=50)
p.add_argument("--base", type=int, default=0, help="first message id")
a = p.parse_args()
for h in (a.host, a.trusted, a.untrusted):
    if not h.startswith("127."):
        sys.exit("client.py: loopback addresses only")

lock = threading.Lock()
next_id = 0
results = []


def take():
    global next_id
    with lock:
        if next_id >= a.count:
            return None
        i = next_id
        next_id += 1
        return a.base + i


def plan(i):
    trusted = i % 2 == 0
    local = (i // 2) % 2 == 0
    rcpt = a.local if local else "soak%d@%s" % (i, a.remote_domain)
    return trusted, local, rcpt


def record(i, trusted, local, outcome, code, stage):
    with lock:
        results.append("%d %s %s %s %s %s" % (
            i, "trusted" if trusted else "untrusted",
            "local" if local else "remote", outcome, code, stage))


def classify(code):
    return "accepted" if code // 100 == 2 else "refused" if code // 100 == 5 else "tempfailed"


def connect(source):
    s = smtplib.SMTP(a.host, a.port, timeout=30, source_address=(source, 0),
                     local_hostname="soak.client.example")
    code, _ = s.ehlo("soak.client.example")
    if code != 250:
        raise smtplib.SMTPResponseException(code, b"EHLO")
    return s


def send_one(s, i, trusted, local, rcpt):
    """Returns (outcome, code, stage); raises on a broken session."""
    code, _ = s.mail("<soak-sender@site.example>")
    if code // 100 != 2:
        return classify(code), code, "mail"
    code, _ = s.rcpt("<%s>" % rcpt)
    if code // 100 != 2:
        return classify(code), code, "rcpt"
    msg = ("From: <soak-sender@site.example>\r\nTo: <%s>\r\n"
           "Subject: soak %d\r\nX-Soak-Id: %d\r\n\r\nsoak message %d\r\n"
           % (rcpt, i, i, i)).encode()
    code, _ = s.data(msg)
    return classify(code), code, "data"


def worker(trusted_turn):
    sessions = {}
    used = {}
    while True:
        i = take()
        if i is None:
            break
        trusted, local, rcpt = plan(i)
        src = a.trusted if trusted else a.untrusted
        outcome, code, stage = "tempfailed", 0, "connect"
        try:
            s = sessions.get(src)
            if s is None or used.get(src, 0) >= a.per_session:
                if s is not None:
                    try:
                        s.quit()
                    except Exception:
                        pass
                s = connect(src)
                sessions[src] = s
                used[src] = 0
            used[src] += 1
            stage = "session"
            outcome, code, stage = send_one(s, i, trusted, local, rcpt)
            if outcome == "tempfailed":
                raise ConnectionResetError("tempfail: renew the session")
            s.rset()
        except (smtplib.SMTPException, OSError, socket.timeout) as e:
            if outcome != "tempfailed":
                pass	# the outcome is known; only the RSET failed
            elif stage in ("connect", "session"):
                code = getattr(e, "smtp_code", 0)
            s = sessions.pop(src, None)
            if s is not None:
                try:
                    s.close()
                except Exception:
                    pass
            if stage == "connect":
                time.sleep(0.05)
        record(i, trusted, local, outcome, code, stage)
    for s in sessions.values():
        try:
            s.quit()
        except Exception:
            pass


t0 = time.monotonic()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(a.out, "w") as f:
    f.write("\n".join(sorted(results, key=lambda l: int(l.split()[0]))) + "\n")
print("# client.py: %d messages in %.1f s" % (len(results), time.monotonic() - t0))
