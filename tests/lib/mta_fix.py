#!/usr/bin/env python3
"""tests/lib/mta_fix.py - apply relayguard-audit's recommended fix, literally,
to a test MTA's configuration (tests/lib/mta.sh: mta_apply_fix).

    mta_fix.py KIND CONF [ACCESS] < fix-text
    mta_fix.py --json [--strict] [--root DIR] KIND CONF [ACCESS] < report.json

With --json the input is relayguard-audit's JSON report and its "remedy"
object is applied: for every step, in the file it names (mapped onto the
test instance's: sendmail's access file for ".../access", otherwise CONF;
with --root, DIR followed by the path the step names, e.g. DIR/etc/exim4/
conf.d/acl/30_exim4-config_check_rcpt), every statement matching one of the
step's "remove" EREs (grep -E) is deleted whole: the file is cut into the
statements its "remove_unit" names, each statement's text is its lines
(comments and blank lines left out) with leading and trailing white space
and a trailing backslash cut, joined by single spaces, and a statement
whose text matches goes with every line of it:

  line            one line;
  exim-statement  an ACL statement: its verb line (accept, defer, deny,
                  discard, drop, require, warn) and every line after it up
                  to the next verb, ACL name, macro definition or "begin";
                  elsewhere one setting with its backslash continuations.
                  Preprocessor lines (.ifdef ...) inside it go with it when
                  balanced; a statement a conditional crosses is an error;
  smtpd-rule      a line with the lines continued by a trailing backslash;
  m4-call         an m4 call: every line up to its closing parenthesis
                  (m4 quotes `...' and dnl comments respected).

With --strict an ERE that matches no statement of its file is an error.
Then each of the step's "lines" not there yet is added where the first deleted
statement was, or, when nothing was deleted, where the MTA wants it (Exim: main
settings into the main section, ACL statements into acl_check_rcpt before
any accept for outside domains; OpenSMTPD: before the first match rule;
sendmail: .mc lines before the MAILERs, access lines appended; Postfix:
"name = value" replaces the parameter with its indented continuation lines,
as postconf -e does, or is appended). Without --json the text
"recommended_fix" is read:

KIND is sendmail, exim or opensmtpd (with --json also postfix, and courier
and haraka, whose lines are added where the first deleted line was, else
appended; use --root with them); CONF the
file an admin edits (sendmail.mc, Exim's configure, smtpd.conf, main.cf);
ACCESS sendmail's access file.
The fix text is the report's "recommended_fix". What it says is done, and
nothing else:

  every MTA   a comment naming a config line in quotes after "delete" or
              "remove" ("# and delete any 'match from any for any action
              "relay"' rule") deletes the statements (as above: Exim
              exim-statement, OpenSMTPD smtpd-rule, sendmail m4-call) whose
              first line or whole text is equal to it (whitespace normalised);
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


TEXT_UNIT = {"exim": "exim-statement", "opensmtpd": "smtpd-rule", "sendmail": "m4-call"}


def apply_deletions(kind, conf, dels, log):
    """Delete the statements whose first line or whole text is one of DELS."""
    if not dels:
        return conf
    drop = set()
    for a, b, t in statements(conf, TEXT_UNIT[kind]):
        if norm(conf[a]) in dels or norm(t) in dels:
            log.append("deleted: " + t)
            drop.update(range(a, b))
    return [l for i, l in enumerate(conf) if i not in drop]


EXIM_VERBS = ("accept", "defer", "deny", "discard", "drop", "require", "warn")


def blank_or_comment(l, m4=False):
    s = l.strip()
    return not s or s.startswith("#") or (m4 and re.match(r"dnl\b", s) is not None)


def piece(l):
    s = l.strip()
    return s[:-1].rstrip() if s.endswith("\\") else s


def logical_lines(lines):
    """[(first, end)] of the backslash-continued lines of LINES."""
    out, i = [], 0
    while i < len(lines):
        j = i
        while (j + 1 < len(lines) and lines[j].rstrip("\n").endswith("\\")
               and not blank_or_comment(lines[j])):
            j += 1
        out.append((i, j + 1))
        i = j + 1
    return out


def text_of(lines, first, end, m4=False):
    return " ".join(piece(l) for l in lines[first:end] if not blank_or_comment(l, m4))


def exim_kind(l):
    s = l.strip()
    if blank_or_comment(l):
        return "c"
    if s.startswith("."):
        return "d"
    w = s.split()[0]
    if w in EXIM_VERBS:
        return "v"
    if (re.match(r"\S+:$", s) or w == "begin"
            or re.match(r"[A-Z][A-Za-z0-9_]*\s*=", s)):
        return "b"
    return "o"


def if_depth(lines):
    d = 0
    for l in lines:
        w = l.strip().split()[0] if l.strip() else ""
        if w in (".if", ".ifdef", ".ifndef"):
            d += 1
        elif w == ".endif":
            d -= 1
            if d < 0:
                return d
    return d


def exim_units(lines):
    """Exim statements: [(first, end)] over LINES."""
    ll = logical_lines(lines)
    kinds = [exim_kind(lines[a]) for a, _ in ll]
    out, k = [], 0
    while k < len(ll):
        if kinds[k] in ("c", "d") or (kinds[k] == "b" and not re.match(
                r"[A-Z]", lines[ll[k][0]].strip())):
            k += 1
            continue
        if kinds[k] != "v":
            out.append(ll[k])
            k += 1
            continue
        e = k + 1
        while e < len(ll) and kinds[e] not in ("v", "b"):
            e += 1
        last = e - 1          # trailing comments and directives are not its own
        while last > k and kinds[last] in ("c", "d"):
            last -= 1
        body = [lines[i] for i in range(ll[k][0], ll[last][1])]
        while if_depth(body) > 0 and last + 1 < e:
            last += 1
            body = [lines[i] for i in range(ll[k][0], ll[last][1])]
        if if_depth(body) != 0:
            raise ValueError("the statement at line %d crosses a preprocessor "
                             "conditional: edit it by hand" % (ll[k][0] + 1))
        out.append((ll[k][0], ll[last][1]))
        k = e
    return out


def m4_scan(l, q, p):
    """Quote and parenthesis depth after line L, from Q and P."""
    i = 0
    while i < len(l):
        c = l[i]
        if q:
            q += (c == "`") - (c == "'")
        elif c == "`":
            q = 1
        elif c == "#":
            break
        elif c == "(":
            p += 1
        elif c == ")":
            p = max(p - 1, 0)
        elif (l.startswith("dnl", i) and (i == 0 or not re.match(r"\w", l[i - 1]))
              and not re.match(r"\w", l[i + 3:i + 4])):
            break
        i += 1
    return q, p


def m4_units(lines):
    out, i = [], 0
    while i < len(lines):
        if blank_or_comment(lines[i], True):
            i += 1
            continue
        q, p, j = 0, 0, i
        while True:
            q, p = m4_scan(lines[j], q, p)
            j += 1
            if (q == 0 and p == 0) or j >= len(lines):
                break
        out.append((i, j))
        i = j
    return out


def statements(lines, unit):
    """[(first, end, text)]: the statements of LINES for UNIT."""
    if unit == "exim-statement":
        spans = exim_units(lines)
    elif unit == "smtpd-rule":
        spans = [(a, b) for a, b in logical_lines(lines) if not blank_or_comment(lines[a])]
    elif unit == "m4-call":
        spans = m4_units(lines)
    elif unit == "line":
        spans = [(i, i + 1) for i, l in enumerate(lines) if not blank_or_comment(l)]
    else:
        raise ValueError("unknown remove_unit %r" % unit)
    return [(a, b, text_of(lines, a, b, unit == "m4-call")) for a, b in spans]


def delete_statements(conf, eres, unit, log):
    """Delete the statements matching any of ERES; (conf, first index
    deleted or None, EREs that matched nothing)."""
    st = statements(conf, unit)
    texts = [t + "\n" for _, _, t in st]
    gone, unmatched = set(), []
    for ere in eres:
        hits = grep_lines(ere, texts)
        if not hits:
            unmatched.append(ere)
        for h in hits:
            a, b, t = st[h]
            if h not in gone:
                log.append("deleted %s (%s), lines %d-%d: %s" % (unit, ere, a + 1, b, t))
            gone.add(h)
    drop = {i for h in gone for i in range(st[h][0], st[h][1])}
    first = min(drop) if drop else None
    return [l for i, l in enumerate(conf) if i not in drop], first, unmatched


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
    drop = set()
    for a, b, t in statements(conf, "m4-call"):
        m = re.match(r"FEATURE\(`?([A-Za-z_]+)'?", t)
        if m and m.group(1) in features_off:
            log.append("removed: " + t)
            drop.update(range(a, b))
    out = []
    for i, l in enumerate(conf):
        if i in drop:
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


def fix_postfix(add, conf, log):
    """main.cf "name = value" lines, as postconf -e sets them: a parameter
    there already is replaced whole (with its indented continuation lines)."""
    conf = list(conf)
    for a in add:
        name = a.split("=", 1)[0].strip()
        at = next((i for i, l in enumerate(conf)
                   if re.match(re.escape(name) + r"\s*=", l)), None)
        if at is None:
            conf.append(a + "\n")
            log.append("added: " + a)
            continue
        end = at + 1
        while end < len(conf) and re.match(r"[ \t]+\S", conf[end]):
            end += 1
        log.append("replaced: %s -> %s" % (" ".join(norm(l) for l in conf[at:end]), a))
        conf[at:end] = [a + "\n"]
    return conf


def place(kind, conf, add, log):
    if kind == "postfix":
        return fix_postfix(add, conf, log)
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


def step_target(kind, st, path, access, root):
    f = st.get("config_file", "")
    if root is not None:
        return root.rstrip("/") + f.split()[0]
    return access if kind == "sendmail" and re.search(r"/access\b", f) else path


def apply_step(kind, st, target, access, strict, log):
    try:
        with open(target) as fh:
            conf = fh.readlines()
    except FileNotFoundError:
        conf = []
    conf, first, unmatched = delete_statements(
        conf, st.get("remove") or [], st.get("remove_unit") or "line", log)
    for ere in unmatched:
        log.append("unmatched in %s: %s" % (target, ere))
    if strict and unmatched:
        raise ValueError("\n".join(log + ["--strict: a delete pattern matched nothing"]))
    have = {norm(l) for l in conf}
    add = [l for l in st.get("lines") or [] if norm(l) not in have or not norm(l)]
    if add and first is not None:
        conf[first:first] = [a + "\n" for a in add]
        log += ["added in place: " + a for a in add]
    elif add and access is not None and target == access:
        conf += [a + "\n" for a in add]
        log += ["access: " + a for a in add]
    elif add:
        conf = place(kind, conf, add, log)
    with open(target, "w") as fh:
        fh.writelines(conf)


def apply_json(kind, path, access, report, log, strict=False, root=None):
    import json
    steps = (json.loads(report).get("remedy") or {}).get("steps") or []
    for st in steps:
        target = step_target(kind, st, path, access, root)
        if target is None:
            log.append("no file for " + st.get("config_file", ""))
            continue
        if root is not None and re.search(r"/access$", target):
            access = target
        apply_step(kind, st, target, access, strict, log)
    return bool(steps)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--json":
        args, strict, root = sys.argv[2:], False, None
        while args and args[0] in ("--strict", "--root"):
            if args[0] == "--strict":
                strict, args = True, args[1:]
            elif len(args) > 1:
                root, args = args[1], args[2:]
            else:
                args = []
        if len(args) < 2 or args[0] not in ("sendmail", "exim", "opensmtpd", "postfix",
                                            "courier", "haraka"):
            sys.stderr.write("usage: mta_fix.py --json [--strict] [--root DIR] "
                             "KIND CONF [ACCESS] < report.json\n")
            return 2
        log = []
        try:
            ok = apply_json(args[0], args[1], args[2] if len(args) > 2 else None,
                            sys.stdin.read(), log, strict, root)
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
    conf = apply_deletions(kind, conf, deletions(fix), log)
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
