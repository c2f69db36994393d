#!/usr/bin/env python3
"""tests/milter/send.py - send COUNT messages over one SMTP session from a
chosen loopback source address (a "remote" client such as 127.0.0.2), for
the bounce-storm tests. Bounded: at most 1000 messages and --timeout
seconds in all. Loopback only.

  send.py --port P --source 127.0.0.2 --sender forged@spoofed.example \
          --rcpt 'user{i}@victim{m}.example' --count 60 [--domains 3]
          [--rcpts-per-message 1] [--body-file FILE] [--timeout 60]

{i} is the message number, {m} = i mod --domains + 1, {j} the recipient
number within the message. --sender '' sends MAIL FROM:<>. Prints one line
"accepted=A refused=R tempfailed=T" and, with -v, each reply.
"""
import argparse
import smtplib
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, required=True)
p.add_argument("--source", default="127.0.0.2")
p.add_argument("--sender", default="")
p.add_argument("--rcpt", required=True)
p.add_argument("--count", type=int, default=1)
p.add_argument("--domains", type=int, default=1)
p.add_argument("--rcpts-per-message", type=int, default=1)
p.add_argument("--body-file")
p.add_argument("--timeout", type=float, default=60)
p.add_argument("-v", action="store_true")
a = p.parse_args()
if not a.host.startswith("127.") or not a.source.startswith("127."):
    sys.exit("send.py: loopback addresses only")
count = min(a.count, 1000)
deadline = time.monotonic() + a.timeout
body = open(a.body_file, "rb").read() if a.body_file else None

# local_hostname: never let smtplib look up this machine's name in DNS
s = smtplib.SMTP(a.host, a.port, timeout=10, source_address=(a.source, 0),
                 local_hostname="client.outside.example")
s.ehlo("client.outside.example")
acc = ref = tmp = 0
for i in range(count):
    if time.monotonic() > deadline:
        print("# send.py: time limit reached after %d messages" % i)
        break
    m = i % a.domains + 1
    rcpts = [a.rcpt.format(i=i, m=m, j=j) for j in range(a.rcpts_per_message)]
    msg = body if body is not None else (
        "From: <%s>\r\nTo: <%s>\r\nSubject: relayed %d\r\n\r\nmessage %d\r\n"
        % (a.sender or "MAILER-DAEMON@outside.example", rcpts[0], i, i)).encode()
    try:
        s.rset()
        code, text = s.mail("<%s>" % a.sender if a.sender else "<>")
        if code // 100 != 2:
            # refused at MAIL (a boxed source): no RCPT to try
            if a.v:
                print("# %d MAIL %d %s" % (i, code, text.decode(errors="replace")))
            if code // 100 == 4:
                tmp += 1
            else:
                ref += 1
            continue
        ok = []
        for r in rcpts:
            rc, rtext = s.rcpt("<%s>" % r)
            if rc // 100 == 2:
                ok.append(r)
            elif a.v:
                print("# %d RCPT %d %s" % (i, rc, rtext.decode(errors="replace")))
        if not ok:
            ref += 1
            continue
        code, text = s.data(msg)
    except smtplib.SMTPDataError as e:
        code, text = e.smtp_code, e.smtp_error
    except smtplib.SMTPResponseException as e:
        code, text = e.smtp_code, e.smtp_error
    if a.v:
        print("# %d %d %s" % (i, code, text))
    if code // 100 == 2:
        acc += 1
    elif code // 100 == 4:
        tmp += 1
    else:
        ref += 1
try:
    s.quit()
except smtplib.SMTPException:
    pass
print("accepted=%d refused=%d tempfailed=%d" % (acc, ref, tmp))
