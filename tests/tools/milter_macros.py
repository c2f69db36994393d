#!/usr/bin/python3
"""tests/tools/milter_macros.py - a measuring milter: which macros does an MTA
send, with which values, at which stage? Used to document in
relayguard-milter(8) what differs between Postfix and sendmail, from
measurements rather than from memory.

    milter_macros.py SOCKET LOGFILE      (SOCKET as libmilter: unix:/path,
                                          inet:port@host)

It asks for SMFIP_RCPT_REJ (so recipients the MTA refused itself are shown,
with {rcpt_mailer} = error) and for the macro lists relayguard-milter asks
for plus the ones the MTAs document, and never refuses anything. One JSON
object per callback in LOGFILE: {"stage", "arg", "macros": {...}}; a macro
the MTA did not send is absent. Needs Debian's python3-milter.
"""
import json
import sys

import Milter

# At most 5 macros per stage (pymilter's limit, from libmilter's): the lists
# relayguard-milter asks for (milter/callbacks.c) plus one or two more.
STAGES = {
    "connect": "j _ {daemon_name} {client_addr} {if_addr}",
    "helo": "{tls_version} {cipher}",
    "envfrom": "i {auth_authen} {auth_type} {mail_addr} {mail_mailer}",
    "envrcpt": "i {rcpt_addr} {rcpt_mailer} {rcpt_host}",
}
NAMES = {s: v.split() for s, v in STAGES.items()}
LOG = None


def log(stage, arg, ctx):
    macros = {}
    for name in NAMES.get(stage, []):
        v = ctx.getsymval(name)
        if v is not None:
            macros[name] = v
    LOG.write(json.dumps({"stage": stage, "arg": arg, "macros": macros}) + "\n")
    LOG.flush()


@Milter.rejected_recipients
class Probe(Milter.Base):
    @Milter.symlist(*NAMES["connect"])
    def connect(self, hostname, family, hostaddr):
        log("connect", [hostname, str(hostaddr)], self)
        return Milter.CONTINUE

    @Milter.symlist(*NAMES["helo"])
    def hello(self, name):
        log("helo", name, self)
        return Milter.CONTINUE

    @Milter.symlist(*NAMES["envfrom"])
    def envfrom(self, f, *s):
        log("envfrom", f, self)
        return Milter.CONTINUE

    @Milter.symlist(*NAMES["envrcpt"])
    def envrcpt(self, to, *s):
        log("envrcpt", to, self)
        return Milter.CONTINUE


def main():
    global LOG
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    LOG = open(sys.argv[2], "a")
    Milter.factory = Probe
    Milter.runmilter("macros", sys.argv[1], 60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
