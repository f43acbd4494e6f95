#!/usr/bin/env python3
# comments.py - checks that every static function definition in the C sources has a
# `name - what` comment directly above it (a comment ending on the previous non-blank
# line; a definition spread over several lines counts by its first); prints
# file:line for each one that lacks it and exits 1 if any. Usage: comments.py [FILE...]
# (without arguments: the .c and .h files of common/, the daemons and tgmctl/).
import glob
import re
import sys

DIRS = ["common", "gatewayd", "senderd", "webhookd", "billingd", "tgmctl"]
# a line that may open a static function's definition: its specifiers, then the rest
START = re.compile(r"(static|inline|_Noreturn|noreturn|__attribute__|__inline__)\b")
COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
NAME = re.compile(r"(\w+)\s*\(")


def drop_attributes(text):
    """text without its __attribute__((...)) (balanced parentheses, nested or not)."""
    out, i = [], 0
    while True:
        m = re.search(r"\b__attribute__\s*\(", text[i:])
        if not m:
            return "".join(out) + text[i:]
        out.append(text[i:i + m.start()])
        j, depth = i + m.end(), 1
        while j < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
        out.append(" ")
        i = j


def declaration(lines, i):
    """The declaration opening at line i up to its first `{`, `;` or `=`, and which one
    ended it ("" when none comes within 30 lines)."""
    text = COMMENTS.sub(" ", "\n".join(lines[i:i + 30]))
    text = STRINGS.sub('""', text)
    m = re.search(r"[{;=]", text)
    return (text[:m.start()], m.group()) if m else (text, "")


def missing(path):
    """(line, name) of each static function defined in path without a comment above it."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    for i, line in enumerate(lines):
        if not START.match(line):
            continue
        if i > 0 and START.match(lines[i - 1]) and "\n" in declaration(lines, i - 1)[0]:
            continue  # the line above opened this declaration already
        text, end = declaration(lines, i)
        text = drop_attributes(text)
        if end != "{" or not re.match(r"\s*(\w+\s+)*static\b", text):
            continue  # a prototype, a variable, a table, or not static
        m = NAME.search(text)
        if not m:
            continue  # a static struct or union
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j < 0 or not lines[j].rstrip().endswith("*/"):
            out.append((i + 1, m.group(1)))
    return out


def main(args):
    files = args or sorted(f for d in DIRS for f in glob.glob(d + "/*.[ch]"))
    bad = 0
    for path in files:
        for line, name in missing(path):
            print(f"{path}:{line}: static function {name} has no name-what comment above it")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
