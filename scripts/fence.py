#!/usr/bin/env python3
"""fence.py FILE... - keep the hand-laid string constants out of clang-format's reach.

`make format` runs it before clang-format. A string constant at file level (`static const
char name[] =` or a `#define`) that spans several lines, typically SQL that splices in
macros (`"WITH b AS (" BOT_OF_PATH "),"`), is laid out by its author: clang-format would
re-align or re-break it. Each such block that clang-format (.clang-format) would change is
put between `/* clang-format off */` and `/* clang-format on */`; neighbouring blocks
(blank lines and comments between them) share one pair. Blocks already fenced, and blocks
clang-format leaves as they are, are not touched. Rewrites the files in place; prints
nothing; exits 1 when clang-format fails.
"""
import re
import subprocess
import sys

OFF = "/* clang-format off */"
ON = "/* clang-format on */"
CONST = re.compile(r"^(static )?const char \w+\[\] =")


def fence_state(line, inside):
    """whether a fence is open after this line"""
    s = line.strip()
    if re.fullmatch(r"(//|/\*)\s*clang-format off\s*(\*/)?", s):
        return True
    if re.fullmatch(r"(//|/\*)\s*clang-format on\s*(\*/)?", s):
        return False
    return inside


def blocks(lines):
    """(first, last) line indexes of the unfenced multi-line string constants"""
    inside = False
    i = 0
    while i < len(lines):
        line = lines[i]
        end = None
        if not inside and CONST.match(line) and not line.rstrip().endswith(";"):
            end = i
            while end + 1 < len(lines) and not lines[end].rstrip().endswith(";"):
                end += 1
        elif not inside and line.startswith("#define") and line.rstrip().endswith("\\"):
            end = i
            while end + 1 < len(lines) and lines[end].rstrip().endswith("\\"):
                end += 1
        if end is not None:
            if '"' in "".join(lines[i:end + 1]):
                yield i, end
            i = end + 1
            continue
        inside = fence_state(line, inside)
        i += 1


def reformatted(path, texts):
    """which of these blocks clang-format (path's .clang-format) would change: all in one
    run, each after a marker comment of its own"""
    marks = ["/* fence.py block %d */\n" % i for i in range(len(texts))]
    whole = "".join(m + "\n" + t for m, t in zip(marks, texts))
    r = subprocess.run(["clang-format", "--assume-filename=" + path], input=whole,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(1)
    out = r.stdout
    changed = []
    for i, t in enumerate(texts):
        start = out.find(marks[i])
        end = out.find(marks[i + 1]) if i + 1 < len(texts) else len(out)
        changed.append(start < 0 or end < 0 or out[start:end] != marks[i] + "\n" + t)
    return changed


def between_is_quiet(lines, a, b):
    """only blank lines and whole-line comments between lines a and b (exclusive)"""
    in_comment = False
    for line in lines[a + 1:b]:
        s = line.strip()
        if in_comment:
            in_comment = "*/" not in s
        elif s == "" or s.startswith("//"):
            continue
        elif s.startswith("/*"):
            in_comment = "*/" not in s
        else:
            return False
    return not in_comment


def fence(path):
    """put the file's re-laid blocks between fences; True when it changed"""
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")
    found = list(blocks(lines))
    if not found:
        return False
    changed = reformatted(path, ["\n".join(lines[a:b + 1]) + "\n" for a, b in found])
    todo = [ab for ab, c in zip(found, changed) if c]
    if not todo:
        return False
    merged = [list(todo[0])]
    for a, b in todo[1:]:
        if between_is_quiet(lines, merged[-1][1], a):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    for a, b in reversed(merged):
        lines[b + 1:b + 1] = [ON]
        lines[a:a] = [OFF]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return True


def main():
    for path in sys.argv[1:]:
        fence(path)


if __name__ == "__main__":
    main()
