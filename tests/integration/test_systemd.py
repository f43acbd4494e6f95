"""The systemd integration in systemd/: unit templates, sysusers.d and tmpfiles.d.

The templates are filled in the way "make install" fills them (@bindir@ and
@sysconfdir@ replaced) into a temporary directory, with fake daemons in the
bindir because "systemd-analyze verify" insists that ExecStart= binaries exist.
Then every unit goes through "systemd-analyze verify" and
"systemd-analyze security --offline=yes"; neither needs systemd running as
PID 1, so this works in a container.  The settings that docs/style.md habits 12 and
13 ask for are checked by reading the templates.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_systemd.py
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import require_program

REPO = Path(__file__).resolve().parents[2]
SYSTEMD_DIR = REPO / "systemd"

# unit name -> (template file, daemon binary)
SERVICES = {
    "tgm-gatewayd.service": ("tgm-gatewayd.service.in", "gatewayd"),
    "tgm-senderd@.service": ("tgm-senderd@.service.in", "senderd"),
    "tgm-webhookd.service": ("tgm-webhookd.service.in", "webhookd"),
    "tgm-billingd.service": ("tgm-billingd.service.in", "billingd"),
}
TARGET = "tgm.target"
UNITS = sorted(SERVICES) + [TARGET]
PLACEHOLDERS = {"bindir", "sysconfdir"}

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.usefixtures("systemd_analyze")


@pytest.fixture
def systemd_analyze():
    """Fail (never skip) when systemd-analyze is missing."""
    return require_program("systemd-analyze", "systemd")

# --man=no:              do not look up the man pages named in Documentation=
# --generators=no:       do not run the host's generators (they expect a booted
#                        system, which a container or CI runner is not)
# --recursive-errors=no: judge only the named unit, not host units it pulls in
#                        (network-online.target, multi-user.target, ...)
VERIFY_FLAGS = ["--man=no", "--generators=no", "--recursive-errors=no"]

# "systemd-analyze security" scores 0.0 (locked down) to 10.0; --threshold is
# ten times that.  The units score 1.2 today: fail if hardening slips above 2.0.
SECURITY_THRESHOLD = "20"


def substitute(text, bindir, sysconfdir):
    """What the Makefile's install target does with sed."""
    return text.replace("@bindir@", str(bindir)).replace(
        "@sysconfdir@", str(sysconfdir))


def parse_unit(text):
    """Unit file -> {section: [(key, value), ...]}, keeping repeated keys."""
    sections, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"setting outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


def one(sections, section, key):
    found = values(sections, section, key)
    assert len(found) == 1, f"[{section}] {key}= appears {len(found)} times"
    return found[0]


def seconds(span):
    m = re.fullmatch(r"(\d+)\s*(s|sec|min|)", span)
    assert m, f"unexpected time span {span!r}"
    return int(m.group(1)) * (60 if m.group(2) == "min" else 1)


def template_text(unit):
    name = SERVICES[unit][0] if unit in SERVICES else unit
    return (SYSTEMD_DIR / name).read_text()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The units as "make install" would write them, in one directory."""
    base = tmp_path_factory.mktemp("installed")
    bindir, sysconfdir, unitdir = base / "bin", base / "etc", base / "units"
    for d in (bindir, sysconfdir / "tgm", unitdir):
        d.mkdir(parents=True)
    for _, daemon in SERVICES.values():
        fake = bindir / daemon
        fake.write_text("#!/bin/sh\nexit 0\n")
        fake.chmod(0o755)
    for unit in UNITS:
        text = substitute(template_text(unit), bindir, sysconfdir)
        (unitdir / unit).write_text(text)
    return unitdir


def analyze(*args):
    env = dict(os.environ, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="cat",
               LC_ALL="C.UTF-8")
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True,
                          env=env, timeout=60)


def verify_problems(path):
    """Run systemd-analyze verify on one unit file; return what is wrong.

    systemd-analyze exits 0 after many real errors ("Unknown key ...",
    "Failed to parse service type, ignoring"), so any message about a tgm unit
    counts as a failure too, not only the exit status.
    """
    r = analyze("verify", *VERIFY_FLAGS, str(path))
    ours = [line for line in (r.stdout + r.stderr).splitlines()
            if "tgm" in line]
    problems = list(ours)
    if r.returncode != 0:
        problems.append(f"systemd-analyze verify exited {r.returncode}")
        if not ours:
            problems.append(r.stderr.strip())
    return problems


def test_templates_present():
    expected = [name for name, _ in SERVICES.values()] + [
        TARGET, "tgm.sysusers", "tgm.tmpfiles"]
    missing = [n for n in expected if not (SYSTEMD_DIR / n).is_file()]
    assert not missing, f"missing in systemd/: {missing}"


@pytest.mark.parametrize("unit", UNITS)
def test_only_known_placeholders(unit, installed):
    used = set(re.findall(r"@([A-Za-z_]+)@", template_text(unit)))
    assert used <= PLACEHOLDERS, f"unknown placeholders {used - PLACEHOLDERS}"
    left = re.findall(r"@[A-Za-z_]+@", (installed / unit).read_text())
    assert not left, f"placeholders left after substitution: {left}"


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify(unit, installed):
    problems = verify_problems(installed / unit)
    assert not problems, "\n".join(problems)


@needs_analyze
@pytest.mark.parametrize("breakage", [
    ("Type=notify", "Type=bogus"),                       # bad value
    ("ProtectClock=yes", "ProtectClok=yes"),             # unknown key
    ("/bin/gatewayd ", "/bin/no-such-daemon "),          # missing binary
])
def test_verify_catches_errors(breakage, installed, tmp_path):
    """Negative control: the check above really fails on a broken unit."""
    good = (installed / "tgm-gatewayd.service").read_text()
    old, new = breakage
    assert old in good
    broken = tmp_path / "tgm-gatewayd.service"
    broken.write_text(good.replace(old, new, 1))
    assert verify_problems(broken), f"{new!r} was not reported"


@needs_analyze
@pytest.mark.parametrize("unit", sorted(SERVICES))
def test_security_exposure(unit, installed):
    r = analyze("security", "--offline=yes", "--no-pager",
                f"--threshold={SECURITY_THRESHOLD}", str(installed / unit))
    last = r.stdout.strip().splitlines()[-1:] or [r.stderr.strip()]
    assert r.returncode == 0, f"exposure above 2.0: {last[0]}\n{r.stdout}"


@pytest.mark.parametrize("unit", sorted(SERVICES))
def test_service_settings(unit):
    text = template_text(unit)
    u = parse_unit(text)
    daemon = SERVICES[unit][1]
    svc = "Service"

    assert one(u, "Unit", "PartOf") == "tgm.target"
    assert "tgm.target" in one(u, "Install", "WantedBy").split()
    after = one(u, "Unit", "After").split()
    assert "network-online.target" in after and "postgresql.service" in after
    assert values(u, "Unit", "StartLimitBurst")
    assert values(u, "Unit", "StartLimitIntervalSec")

    assert one(u, svc, "Type") == "notify"
    assert one(u, svc, "NotifyAccess") == "main"
    assert seconds(one(u, svc, "WatchdogSec")) == 30
    assert one(u, svc, "Restart") == "on-failure"
    assert values(u, svc, "RestartSec")
    # longer than the 30 s drain, so SIGKILL never cuts a drain short
    assert seconds(one(u, svc, "TimeoutStopSec")) > 30
    assert one(u, svc, "ExecReload") == "/bin/kill -HUP $MAINPID"
    exec_start = f"@bindir@/{daemon} -c @sysconfdir@/tgm/tgm.conf"
    if unit.endswith("@.service"):
        exec_start += " --instance %i"
    assert one(u, svc, "ExecStart") == exec_start
    assert one(u, svc, "User") == "tgm"
    assert one(u, svc, "Group") == "tgm"

    assert one(u, svc, "LoadCredential") == \
        "security.secret_key:@sysconfdir@/tgm/secret.key"
    assert one(u, svc, "EnvironmentFile") == "-@sysconfdir@/tgm/secrets.env"
    assert one(u, svc, "RuntimeDirectory") == "tgm"
    assert one(u, svc, "RuntimeDirectoryMode") == "0750"
    assert one(u, svc, "RuntimeDirectoryPreserve") == "yes"

    for key, value in [("NoNewPrivileges", "yes"),
                       ("ProtectSystem", "strict"),
                       ("PrivateTmp", "yes"),
                       ("ProtectHome", "yes"),
                       ("CapabilityBoundingSet", ""),
                       ("UMask", "0077")]:
        assert one(u, svc, key) == value, f"{key}= should be {value!r}"


@pytest.mark.parametrize("unit", sorted(SERVICES))
def test_hardening_block_sorted(unit):
    """docs/style.md habit 13: the hardening block is sorted alphabetically."""
    lines = template_text(unit).splitlines()
    start = lines.index("# Hardening, sorted alphabetically.") + 1
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line)
    assert len(block) >= 20, "hardening block is suspiciously short"
    assert block == sorted(block), "hardening block is not sorted"
    keys = [line.partition("=")[0] for line in block]
    # the same key twice is allowed only for SystemCallFilter= (allow, then deny)
    dups = {k for k in keys if keys.count(k) > 1} - {"SystemCallFilter"}
    assert not dups, f"repeated keys: {dups}"


def test_target_groups_the_suite():
    u = parse_unit(template_text(TARGET))
    wants = " ".join(values(u, "Unit", "Wants")).split()
    for unit in SERVICES:
        want = unit.replace("@.", "@1.")
        assert want in wants, f"tgm.target should want {want}"
    assert "multi-user.target" in one(u, "Install", "WantedBy").split()
    t = parse_unit(template_text("tgm-senderd@.service"))
    assert one(t, "Install", "DefaultInstance") == "1"


def test_sysusers_and_tmpfiles(tmp_path):
    """Apply tgm.sysusers and tgm.tmpfiles to an empty root, installed where
    "make install" puts them (PREFIX/lib/{sysusers,tmpfiles}.d/tgm.conf)."""
    require_program("systemd-sysusers", "systemd")
    require_program("systemd-tmpfiles", "systemd")
    root = tmp_path / "root"
    for sub in ("etc", "run", "usr/local/lib/sysusers.d",
                "usr/local/lib/tmpfiles.d"):
        (root / sub).mkdir(parents=True)
    shutil.copy(SYSTEMD_DIR / "tgm.sysusers",
                root / "usr/local/lib/sysusers.d/tgm.conf")
    shutil.copy(SYSTEMD_DIR / "tgm.tmpfiles",
                root / "usr/local/lib/tmpfiles.d/tgm.conf")

    r = subprocess.run(["systemd-sysusers", f"--root={root}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    passwd = (root / "etc/passwd").read_text().splitlines()
    entry = [p.split(":") for p in passwd if p.startswith("tgm:")]
    assert entry, f"no tgm user in {passwd}"
    uid, gid = int(entry[0][2]), int(entry[0][3])
    assert uid < 1000, "tgm must be a system user"

    if os.geteuid() != 0:
        pytest.skip("systemd-tmpfiles needs root to chown /run/tgm")
    r = subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create",
                        "--prefix=/run/tgm"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    st = (root / "run/tgm").stat()
    assert (st.st_uid, st.st_gid) == (uid, gid)
    assert st.st_mode & 0o7777 == 0o750
