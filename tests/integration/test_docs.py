"""
test_docs.py - the docs and man pages say what the code does.

The man pages render without a groff warning; tgm.conf(5), generated from
`tgmctl config --defaults`, lists every key of common/config_keys.c under its section;
tgmctl(8) names every command of tgmctl/main.c; nothing in the repository cites a design
or facts file that lives outside it (they are docs/design.md, docs/telegram.md,
docs/stripe.md and docs/style.md).
"""
import re
import shutil
import subprocess

import pytest

from conftest import REPO, binary

MAN = REPO / "man"


def need(program, package):
    """The path of program; fail naming the Debian package when it is missing."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is missing: apt-get install {package} "
                    "(scripts/deps.sh test installs it)", pytrace=False)
    return path


def config_keys():
    """(section, key) of every row of common/config_keys.c, in table order."""
    text = (REPO / "common/config_keys.c").read_text()
    keys = re.findall(r'^\t\{ "([a-z_0-9]+)", "([a-z_0-9]+)",', text, re.M)
    assert len(keys) > 20, "common/config_keys.c: could not read its table"
    return keys


def tgm_conf_page(tmp_path):
    """Generate tgm.conf.5 the way `make man` does; its path."""
    out = tmp_path / "tgm.conf.5"
    r = subprocess.run(["sh", str(MAN / "tgm.conf.5.sh"), binary("tgmctl")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out.write_text(r.stdout)
    return out


def render(page):
    """Render a man page as text with groff, failing on any warning."""
    groff = need("groff", "groff-base")
    r = subprocess.run([groff, "-man", "-Tutf8", "-ww", str(page)], capture_output=True,
                       text=True, timeout=60, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and r.stderr == "", f"{page.name}: {r.stderr}"
    # Drop overstrike (bold/underline) so the text can be searched.
    return re.sub(r".\x08", "", r.stdout)


@pytest.mark.parametrize("name", ["tgmctl.8", "tgm-daemons.8"])
def test_handwritten_man_pages_render(name):
    text = render(MAN / name)
    assert "NAME" in text and "SEE ALSO" in text


def test_tgm_conf_man_page_lists_every_key(tmp_path):
    text = render(tgm_conf_page(tmp_path))
    sections = re.split(r"^   \[([a-z_0-9]+)\]$", text, flags=re.M)
    listed = {sections[i]: sections[i + 1] for i in range(1, len(sections), 2)}
    for section, key in config_keys():
        assert section in listed, f"tgm.conf(5) has no [{section}] section"
        assert re.search(rf"^ {{7}}{re.escape(key)}( |$)", listed[section], re.M), \
            f"tgm.conf(5) does not list [{section}] {key}"


def test_tgmctl_man_page_names_every_command():
    text = render(MAN / "tgmctl.8")
    table = (REPO / "tgmctl/main.c").read_text().split("commands[] = {", 1)[1].split("};", 1)[0]
    commands = re.findall(r'\{ "([a-z-]+)",', table)
    assert commands, "tgmctl/main.c: could not read its command table"
    for command in commands:
        assert re.search(rf"^ +{re.escape(command)}\b", text, re.M), \
            f"tgmctl(8) does not describe the command {command}"


def test_units_point_at_the_man_pages():
    for unit in sorted((REPO / "systemd").glob("*.in")):
        docs = [line for line in unit.read_text().splitlines()
                if line.startswith("Documentation=")]
        assert docs, f"{unit.name} has no Documentation="
        for ref in docs[0].split("=", 1)[1].split():
            page = re.fullmatch(r"man:([a-z.-]+)\(([0-9])\)", ref)
            assert page, f"{unit.name}: {ref} is not a man: reference"
            name, sec = page.groups()
            assert (MAN / f"{name}.{sec}").exists() or (MAN / f"{name}.{sec}.sh").exists(), \
                f"{unit.name}: {ref} is not in man/"


def test_nothing_cites_docs_outside_the_repository():
    r = subprocess.run(["git", "-C", str(REPO), "grep", "-n", "-I", "-E",
                        r"/work/shared|(^|[^/a-z_])(DESIGN|TELEGRAM|STRIPE|STYLE)\.md",
                        "--", ".", ":!tests/node_modules", ":!tests/integration/test_docs.py"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, f"citations of files outside the repository:\n{r.stdout}"
    for name in ("design", "telegram", "stripe", "style"):
        assert (REPO / "docs" / f"{name}.md").exists()


def config_defaults():
    """{(section, key): default} as `tgmctl config --defaults` prints the table."""
    r = subprocess.run([binary("tgmctl"), "config", "--defaults"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    section, out = "", {}
    for line in r.stdout.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif re.match(r"[a-z_0-9]+ = ", line):
            key, value = line.split(" = ", 1)
            out[(section, key)] = value.strip('"')
    return out


def test_configuration_doc_matches_the_table():
    """docs/configuration.md's table has every key, with the default the code has."""
    doc = (REPO / "docs/configuration.md").read_text()
    rows = re.findall(r"^\| `([a-z_0-9]+)` \| `([a-z_0-9]+)` \| `([^`]*)` \|", doc, re.M)
    documented = {(s, k): d.strip('"') for s, k, d in rows}
    code = config_defaults()
    assert len(code) == len(config_keys()), "could not read every default of the table"
    assert sorted(documented) == sorted(code), "docs/configuration.md and the config table list different keys"
    for key, default in code.items():
        assert documented[key] == default, \
            f"docs/configuration.md: [{key[0]}] {key[1]} defaults to {default!r} in the code"


def code_routes():
    """{(method, path)} of gatewayd/server.c's route table."""
    text = (REPO / "gatewayd/server.c").read_text()
    table = text.split("routes[] = {", 1)[1].split("\n};", 1)[0]
    out = set()
    for methods, path in re.findall(r'\{ ([A-Z_| ]+), "([^"]+)"', table):
        for m in methods.split("|"):
            out.add((m.strip().replace("EVHTTP_REQ_", ""), path))
    assert len(out) > 20, "gatewayd/server.c: could not read its route table"
    return out


def test_api_doc_lists_the_route_table():
    """docs/api.md's route tables list exactly gatewayd's routes."""
    doc = (REPO / "docs/api.md").read_text()
    documented = set()
    for methods, path in re.findall(r"^\| (`[A-Z]+`(?:, `[A-Z]+`)*) \| `(/[^`]*)` \|", doc, re.M):
        for m in re.findall(r"`([A-Z]+)`", methods):
            documented.add((m, path))
    code = code_routes()
    assert not documented - code, f"docs/api.md lists routes gatewayd lacks: {documented - code}"
    assert not code - documented, f"docs/api.md misses routes of gatewayd: {code - documented}"


def test_hacking_tour_matches_the_files():
    """docs/HACKING.md's source tour is the opening comment of every file, as
    scripts/tour.py makes it: a new or changed file without a new tour fails."""
    r = subprocess.run(["/usr/bin/python3", str(REPO / "scripts/tour.py"), "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    text = (REPO / "docs/HACKING.md").read_text()
    assert "(no opening comment: add one)" not in text
    for c in sorted(REPO.glob("gatewayd/*.c")):
        assert f"- `{c.name}`: " in text, c


def catalog_names():
    """The entry names of common/text.c's catalog."""
    names = set(re.findall(r'^\t\{ "([a-z_0-9]+)", "[a-z]{2}",', (REPO / "common/text.c")
                           .read_text(), re.M))
    assert len(names) > 50, "common/text.c: could not read its catalog"
    return names


ARG = r"(?:[^,;()]|\((?:[^()]|\([^()]*\))*\))*"  # a SQL argument: nested brackets allowed


def test_billing_notices_are_in_the_catalog_and_documented():
    """Every notice a SQL function records (bd_notice) or billingd says by name
    (bd_job_say) is a catalog entry and a row of docs/texts.md; no function file builds
    a text (SQL keeps invariants, C keeps words)."""
    catalog = catalog_names()
    renderers = set(re.findall(r'^\t\{ "([a-z_]+)", [a-z_]+ \},', (REPO / "billingd/render.c")
                               .read_text(), re.M))
    assert "invoice" in renderers, "billingd/render.c: could not read its renderers"
    doc = (REPO / "docs/texts.md").read_text()
    recorded = set()
    for path in sorted((REPO / "sql/functions").glob("*.sql")):
        text = path.read_text()
        recorded |= set(re.findall(r"bd_notice\((?:%s),(?:%s),\s*'([a-z_]+)'" % (ARG, ARG), text))
        assert "'text'" not in text and "bd_say(" not in text, \
            f"{path.name} builds a text: record a notice (bd_notice) instead"
        assert "queue_message(" not in text or not path.stem.startswith("bd_"), \
            f"{path.name} queues a message: record a notice (bd_notice) instead"
    for path in sorted((REPO / "billingd").glob("*.c")):
        recorded |= set(re.findall(r'bd_job_say\(j, "([a-z_]+)"', path.read_text()))
    assert {"paid", "menu", "history", "refund", "autorecharge_usage"} <= recorded
    unknown = recorded - catalog - renderers
    assert not unknown, f"notices neither in the catalog nor rendered: {unknown}"
    missing = {n for n in recorded if f"`{n}`" not in doc}
    assert not missing, f"docs/texts.md misses the notices {missing}"


def test_every_migration_is_listed_in_tgmctl_md():
    """docs/tgmctl.md lists every numbered migration of sql/, and no other."""
    doc = (REPO / "docs/tgmctl.md").read_text()
    listed = set(re.findall(r"^- `(\d{3}_[a-z_]+)`:", doc, re.M))
    files = {p.stem for p in (REPO / "sql").glob("[0-9][0-9][0-9]_*.sql")}
    assert listed == files, (f"missing from docs/tgmctl.md: {sorted(files - listed)}; "
                             f"listed without a file: {sorted(listed - files)}")
