"""
tour.py - the source tour in docs/HACKING.md, made from the files themselves.

Every C file opens with a comment saying its job, and every test file with a docstring;
the tour is the first paragraph of each, one line per file, folder by folder, so it
cannot drift from the code. docs/HACKING.md holds it between the two marker lines.

    python3 scripts/tour.py             print the tour
    python3 scripts/tour.py --write     put it into docs/HACKING.md
    python3 scripts/tour.py --check     exit 1 when docs/HACKING.md holds another one
"""
import ast
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HACKING = ROOT / "docs" / "HACKING.md"
BEGIN = "<!-- tour: made by scripts/tour.py --write; do not edit by hand -->"
END = "<!-- end of tour -->"
FOLDERS = [
    ("common", "*.c", "libtgm, linked into every program"),
    ("gatewayd", "*.c", "the HTTP API, the dashboard's server and the Bot API endpoint"),
    ("senderd", "*.c", "delivery: lanes, limits, retries, records, callbacks"),
    ("webhookd", "*.c", "Telegram and Stripe intake, commands, conversations"),
    ("billingd", "*.c", "products, purchases, the ledger's Stripe and Stars side"),
    ("tgmctl", "*.c", "the admin command line"),
    ("tests/unit", "*.c", "C unit tests (`make unit`)"),
    ("tests/tools", "*.c", "C test drivers the integration tests run"),
    ("tests/fuzz", "*.c", "libFuzzer targets (`make fuzz`)"),
    ("tests/integration", "*.py", "the integration tests and their fakes (pytest)"),
]


def c_job(path):
    """The first paragraph of the file's opening comment."""
    m = re.match(r"\s*/\*(.*?)\*/", path.read_text(), re.S)
    return paragraph(re.sub(r"^\s*\* ?", "", l) for l in m.group(1).split("\n")) if m else ""


def py_job(path):
    """The first paragraph of the module's docstring."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return paragraph(doc.split("\n"))


def paragraph(lines):
    out = []
    for line in lines:
        if line.strip():
            out.append(line.strip())
        elif out:
            break
    return " ".join(out)


def job(path):
    text = c_job(path) if path.suffix == ".c" else py_job(path)
    # "http.c - does this" or "common/http.c - does this": the name is already shown
    text = re.sub(r"^(?:[\w/]+/)?" + re.escape(path.name) + r"\s*(?:-|:|—)+\s*", "", text)
    return text or "(no opening comment: add one)"


def tour():
    out = []
    for folder, pattern, what in FOLDERS:
        out.append(f"\n**{folder}/**: {what}.\n")
        for path in sorted((ROOT / folder).glob(pattern)):
            out.append(f"- `{path.name}`: {job(path)}")
    return "\n".join(out).lstrip("\n") + "\n"


def spliced():
    text = HACKING.read_text()
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        sys.exit(f"tour.py: {HACKING} lacks the marker lines {BEGIN!r} and {END!r}")
    return text, text[:a] + BEGIN + "\n\n" + tour() + "\n" + text[b:]


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else ""
    if arg == "":
        sys.stdout.write(tour())
    elif arg == "--write":
        HACKING.write_text(spliced()[1])
    elif arg == "--check":
        old, new = spliced()
        if old != new:
            sys.exit("docs/HACKING.md's source tour is stale: run python3 scripts/tour.py --write")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
