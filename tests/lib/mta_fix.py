#!/usr/bin/env python3
"""tests/lib/mta_fix.py - apply relayguard-audit's recommended fix, literally,
to a test MTA's configuration (tests/lib/mta.sh: mta_apply_fix).

    mta_fix.py KIND CONF [ACCESS] < fix-text
    mta_fix.py --json KIND CONF [ACCESS] < report.json

With --json the input is relayguard-audit's JSON report and its "remedy"
object is applied: for every step, in the file it names (mapped onto the
test instance's: sendmail's access file for ".../access", otherwise CONF),
every line matching one of the step's "remove" EREs (grep -E) is deleted,
then each of its "lines" not there yet is added where the first deleted
line was, or, when nothing was deleted, where the MTA wants it (Exim: main
settings into the main section, ACL statements into acl_check_rcpt before
any accept for outside domains; OpenSMTPD: before the first match rule;
sendmail: .mc lines before the MAILERs, access lines appended). Without
--json the text "recommended_fix" is read:

KIND is sendmail, exim or opensmtpd; CONF the file an admin edits
(sendmail.mc, Exim's configure, smtpd.conf); ACCESS sendmail's access file.
The fix text is the report's "recommended_fix". What it says is done, and
nothing else:

  every MTA   a comment naming a config line in quotes after "delete" or
              "remove" ("# and delete any 'match from any for any action
              "relay"' rule") deletes the lines equal to it (whitespace
              normalised);
  sendmail    "dnl FEATURE(`x')" lines under a comment that says "remove"
              delete FEATURE(`x') from the .mc; FEATURE/define lines that are
              not comments are added before the MAILER lines;
              "Connect:/From:/To:... VALUE" lines go into the access file;
  exim        "[hostlist|domainlist|...] name = value" lines replace the
              setting in the main section (or add it); ACL statements (a verb
              line and its indented continuations) missing from
              acl_check_rcpt are inserted "before any accept for outside
              domains": before the first accept that is neither the
              "hosts = :" nor the postmaster accept;
  opensmtpd   table/action/match lines that are missing are added before
              the first match rule (smtpd.conf is first-match).

Prints what it did, one line per edit; exits 1 when the text held nothing it
could apply, 2 on usage errors.
"""
import re
import sys


def norm(s):
    return " ".join(s.split())


def deletions(lines):
    """Config lines quoted after delete/remove in comments."""
    out = []
    for l in lines:
        if not re.match(r"\s*(#|dnl\b)", l):
            continue
        for m in re.finditer(r"(?:delete|remove)[^'`]*'([^']+)'", l, re.I):
            text = m.group(1)
            if "..." in text:       # a pattern in prose, not a line
                continue
            out.append(norm(text))
    return out


def apply_deletions(conf, dels, log):
    if not dels:
        return conf
    kept = []
    for l in conf:
        if norm(l) in dels:
            log.append("deleted: " + l.strip())
            continue
        kept.append(l)
    return kept


def fix_sendmail(fix, conf, access_path, log):
    removing = False
    features_off, add_mc, add_access = [], [], []
    for l in fix:
        s = l.strip()
        if re.match(r"(dnl|#)", s):
            if re.search(r"\bremove\b", s, re.I):
                removing = True
            m = re.match(r"dnl\s+FEATURE\(`?([A-Za-z_]+)'?", s)
            if m and removing:
                features_off.append(m.group(1))
            elif not m:
                removing = removing and not s.startswith("#")
            continue
        if not s:
            continue
        if re.match(r"(Connect|From|To|Spam|GreetPause|ClientRate|ClientConn):\S*\s+\S+", s):
            add_access.append(s)
        elif re.match(r"(FEATURE|define|INPUT_MAIL_FILTER|DAEMON_OPTIONS)\(", s):
            add_mc.append(s)
    out = []
    for l in conf:
        m = re.match(r"\s*FEATURE\(`?([A-Za-z_]+)'?", l)
        if m and m.group(1) in features_off:
            log.append("removed: " + l.strip())
            continue
        if add_mc and re.match(r"\s*MAILER\(", l):
            for a in add_mc:
                out.append(a + "dnl\n")
                log.append("added: " + a)
            add_mc = []
        out.append(l)
    if access_path and add_access:
        with open(access_path, "a") as f:
            for a in add_access:
                f.write(a + "\n")
                log.append("access: " + a)
    return out


ACL_VERBS = ("accept", "require", "deny", "warn", "drop", "defer", "discard")


def fix_exim(fix, conf, log):
    settings, acl_lines = [], []
    for l in fix:
        s = l.rstrip("\n")
        if not s.strip() or s.lstrip().startswith("#"):
            continue
        m = re.match(r"((?:hostlist|domainlist|addresslist|localpartlist)\s+)?([a-z_0-9]+)\s*=(.*)$", s)
        if m and not s[0].isspace() and m.group(2) not in ACL_VERBS:
            settings.append((m.group(1) or "", m.group(2), s))
        else:
            acl_lines.append(s)
    conf = list(conf)
    first_begin = next((i for i, l in enumerate(conf) if l.startswith("begin ")), len(conf))
    for kind, name, line in settings:
        pat = re.compile(r"\s*" + re.escape(kind.strip()) + (r"\s+" if kind else "") + re.escape(name) + r"\s*=")
        hit = [i for i in range(first_begin) if pat.match(conf[i])]
        if hit:
            log.append("replaced: %s -> %s" % (conf[hit[0]].strip(), line.strip()))
            conf[hit[0]] = line + "\n"
        else:
            conf.insert(first_begin, line + "\n")
            first_begin += 1
            log.append("added: " + line.strip())
    # ACL statements of the fix, in order.
    fix_st = []
    for s in acl_lines:
        if s.split()[0] in ACL_VERBS:
            fix_st.append([norm(s)])
        elif fix_st:
            fix_st[-1].append(norm(s))
    if not fix_st:
        return conf
    try:
        start = next(i for i, l in enumerate(conf) if l.strip() == "acl_check_rcpt:")
    except StopIteration:
        log.append("no acl_check_rcpt in the configuration")
        return conf
    end = next((i for i in range(start + 1, len(conf))
                if re.match(r"\S.*:\s*$", conf[i]) or conf[i].startswith("begin ")), len(conf))
    # existing statements with their first line index
    existing, cur = [], None
    for i in range(start + 1, end):
        s = conf[i].rstrip("\n")
        if not s.strip() or s.lstrip().startswith("#"):
            continue
        w = s.split()[0]
        if w in ACL_VERBS and re.match(r"\s{0,2}\S", s):
            cur = [i, [norm(s)]]
            existing.append(cur)
        elif cur:
            cur[1].append(norm(s))

    def same(st, ex):
        return ex[0] == st[0] and all(c in ex for c in st[1:])

    # "before any accept for outside domains": the first accept that is not
    # the "hosts = :" or postmaster accept and not one the fix asks for.
    where = end
    for i, ex in existing:
        if ex[0].startswith("accept") and not any(
                c in ("accept hosts = :", "hosts = :") or "local_parts = postmaster" in c
                for c in ex) and not any(same(st, ex) for st in fix_st):
            where = i
            break
    # a statement of the fix counts as there only when it stands before that
    missing = [st for st in fix_st
               if not any(same(st, ex) for i, ex in existing if i < where)]
    if not missing:
        log.append("every ACL statement of the fix is in place already")
        return conf
    block = []
    for st in missing:
        block.append("  " + st[0] + "\n")
        block += ["          " + c + "\n" for c in st[1:]]
        log.append("inserted into acl_check_rcpt: " + " / ".join(st))
    return conf[:where] + block + conf[where:]


def fix_opensmtpd(fix, conf, log):
    add = []
    for l in fix:
        s = l.strip()
        if not s or s.startswith("#"):
            continue
        if re.match(r"(match|action|table)\s", s):
            add.append(s)
    have = {norm(l) for l in conf}
    add = [a for a in add if norm(a) not in have]
    if not add:
        return conf
    first_match = next((i for i, l in enumerate(conf) if l.lstrip().startswith("match ")), len(conf))
    for a in add:
        log.append("added: " + a)
    return conf[:first_match] + [a + "\n" for a in add] + conf[first_match:]


def grep_lines(ere, lines):
    """Indexes of LINES matching the POSIX ERE (grep -E, exact semantics)."""
    import subprocess
    p = subprocess.run(["grep", "-nE", "--", ere], input="".join(lines),
                       capture_output=True, text=True)
    if p.returncode > 1:
        raise ValueError("bad ERE %r: %s" % (ere, p.stderr.strip()))
    return [int(l.split(":", 1)[0]) - 1 for l in p.stdout.splitlines()]


def place(kind, conf, add, log):
    if kind == "exim":
        return fix_exim(add, conf, log)
    if kind == "opensmtpd":
        return fix_opensmtpd(add, conf, log)
    out, done = [], False
    for l in conf:   # sendmail .mc
        if not done and re.match(r"\s*MAILER\(", l):
            out += [a + "\n" for a in add]
            log += ["added: " + a for a in add]
            done = True
        out.append(l)
    if not done:
        out += [a + "\n" for a in add]
        log += ["added: " + a for a in add]
    return out


def apply_json(kind, path, access, report, log):
    import json
    steps = (json.loads(report).get("remedy") or {}).get("steps") or []
    for st in steps:
        f = st.get("config_file", "")
        target = access if kind == "sendmail" and re.search(r"/access\b", f) else path
        if target is None:
            log.append("no file for " + f)
            continue
        try:
            with open(target) as fh:
                conf = fh.readlines()
        except FileNotFoundError:
            conf = []
        first = None
        for ere in st.get("remove") or []:
            for i in sorted(grep_lines(ere, conf), reverse=True):
                log.append("deleted (%s): %s" % (ere, conf[i].strip()))
                del conf[i]
                first = i if first is None else min(first, i)
        have = {norm(l) for l in conf}
        add = [l for l in st.get("lines") or [] if norm(l) not in have or not norm(l)]
        if add and first is not None:
            conf[first:first] = [a + "\n" for a in add]
            log += ["added in place: " + a for a in add]
        elif add and target == access:
            conf += [a + "\n" for a in add]
            log += ["access: " + a for a in add]
        elif add:
            conf = place(kind, conf, add, log)
        with open(target, "w") as fh:
            fh.writelines(conf)
    return bool(steps)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--json":
        args = sys.argv[2:]
        if len(args) < 2 or args[0] not in ("sendmail", "exim", "opensmtpd"):
            sys.stderr.write("usage: mta_fix.py --json KIND CONF [ACCESS] < report.json\n")
            return 2
        log = []
        try:
            ok = apply_json(args[0], args[1], args[2] if len(args) > 2 else None,
                            sys.stdin.read(), log)
        except ValueError as e:
            print(e)
            return 1
        for l in log:
            print(l)
        return 0 if ok and log else 1
    if len(sys.argv) < 3 or sys.argv[1] not in ("sendmail", "exim", "opensmtpd"):
        sys.stderr.write("usage: mta_fix.py sendmail|exim|opensmtpd CONF [ACCESS] < fix\n")
        return 2
    kind, path = sys.argv[1], sys.argv[2]
    access = sys.argv[3] if len(sys.argv) > 3 else None
    fix = sys.stdin.read().splitlines()
    with open(path) as f:
        conf = f.readlines()
    log = []
    conf = apply_deletions(conf, deletions(fix), log)
    if kind == "sendmail":
        conf = fix_sendmail(fix, conf, access, log)
    elif kind == "exim":
        conf = fix_exim(fix, conf, log)
    else:
        conf = fix_opensmtpd(fix, conf, log)
    with open(path, "w") as f:
        f.writelines(conf)
    for l in log:
        print(l)
    return 0 if log else 1


if __name__ == "__main__":
    sys.exit(main())
