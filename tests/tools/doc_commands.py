#!/usr/bin/env python3
"""doc_commands.py - the example commands of the documentation, one JSON
line each: {"id": "FILE:LINE", "cmd": "..."}.

Where commands are taken from (tests/integration/750_docs_commands.sh runs
them):
  README.md, docs/*.md   indented (4 spaces) and ``` code blocks; in a block
                         that shows a session ("$ " lines) only the "$ "
                         lines, without the prompt
  docs/*.1, *.8, *.5     the .nf/.fi blocks of every section, roff escapes
                         undone (\\- \\e \\(aq ...)
A command is a line whose first word (after "sudo") is one of the three
programs or make, or that pipes into one of the programs. A trailing "\\"
joins the next line; a trailing "# comment" is dropped.
"""
import glob
import json
import re
import sys

PROGRAMS = ("relayguard-audit", "relayguard-milter", "relayguard-report")


def strip_comment(cmd):
    quote = None
    for i, c in enumerate(cmd):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return cmd[:i].rstrip()
    return cmd.rstrip()


def is_command(cmd):
    words = cmd.split()
    if not words:
        return False
    first = words[1] if words[0] == "sudo" and len(words) > 1 else words[0]
    if first in PROGRAMS or first == "make":
        return True
    return any(re.search(r"\|\s*(sudo\s+)?%s\b" % p, cmd) for p in PROGRAMS)


def joined(lines):
    """(line number, text) with "\\" continuations joined."""
    out, buf, start = [], "", None
    for n, text in lines:
        if start is None:
            start = n
        if text.rstrip().endswith("\\"):
            buf += text.rstrip()[:-1] + " "
            continue
        out.append((start, buf + text))
        buf, start = "", None
    if buf:
        out.append((start, buf))
    return out


def markdown_blocks(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, cur, fence, prev_blank = [], [], False, True
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            if fence:
                blocks.append(cur)
                cur = []
            fence = not fence
            continue
        if fence:
            cur.append((n, line))
        elif line.startswith("    ") and (cur or prev_blank):
            cur.append((n, line[4:]))
        elif cur and line.strip() == "":
            cur.append((n, ""))
        elif cur:
            blocks.append(cur)
            cur = []
        prev_blank = line.strip() == ""
    if cur:
        blocks.append(cur)
    return blocks


def roff_text(line):
    for a, b in (("\\-", "-"), ("\\e", "\\"), ("\\(aq", "'"), ("\\(dq", '"'),
                 ("\\fB", ""), ("\\fR", ""), ("\\fI", ""), ("\\fP", ""), ("\\&", "")):
        line = line.replace(a, b)
    return line


def man_blocks(path):
    blocks, cur, inside = [], [], False
    for n, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if line.startswith(".nf"):
            inside, cur = True, []
        elif line.startswith(".fi"):
            inside = False
            blocks.append(cur)
        elif inside and not line.startswith("."):
            cur.append((n, roff_text(line)))
    return blocks


def commands(path, blocks):
    for block in blocks:
        session = any(t.startswith("$ ") for _, t in block)
        lines = [(n, t[2:] if session else t) for n, t in block
                 if not session or t.startswith("$ ")]
        for n, text in joined(lines):
            cmd = strip_comment(text.strip())
            if is_command(cmd):
                yield {"id": "%s:%d" % (path, n), "cmd": cmd}


def main():
    files = sys.argv[1:] or (["README.md"] + sorted(glob.glob("docs/*.md")) +
                             sorted(glob.glob("docs/*.[158]")))
    for path in files:
        blocks = markdown_blocks(path) if path.endswith(".md") else man_blocks(path)
        for c in commands(path, blocks):
            print(json.dumps(c, ensure_ascii=False))


if __name__ == "__main__":
    main()
