"""The programs are built hardened (Makefile): PIE, full RELRO, stack protector and,
outside the sanitizer build, _FORTIFY_SOURCE. Read from the binaries with readelf.

Run: TGM_BIN=$PWD/bin /usr/bin/python3 -m pytest -q tests/integration/test_hardening.py
"""

import re
import subprocess

import pytest

from conftest import TGM_BIN, require_file, require_program

PROGRAMS = ("gatewayd", "senderd", "webhookd", "billingd", "tgmctl")


def readelf(*args):
    """readelf's output in the C locale, wide (no truncated symbol names)."""
    exe = require_program("readelf", "binutils")
    r = subprocess.run([exe, "-W", *args], capture_output=True, text=True, timeout=60,
                       env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(params=PROGRAMS)
def program(request):
    path = TGM_BIN / request.param
    require_file(path, "make all")
    return str(path)


def test_pie(program):
    assert re.search(r"Type:\s+DYN ", readelf("-h", program)), "not a PIE (-fPIE -pie)"


def test_full_relro(program):
    assert "GNU_RELRO" in readelf("-l", program), "no RELRO segment (-Wl,-z,relro)"
    dynamic = readelf("-d", program)
    assert re.search(r"\(FLAGS\)\s+.*BIND_NOW|\(FLAGS_1\)\s+Flags:.*\bNOW\b", dynamic), \
        "no BIND_NOW (-Wl,-z,now)"


def test_stack_protector_and_fortify(program):
    symbols = set(re.findall(r"\b(__\w+_chk(?:_fail)?)\b", readelf("--dyn-syms", program)))
    assert "__stack_chk_fail" in symbols, "no stack protector (-fstack-protector-strong)"
    if "__asan_init" in readelf("--dyn-syms", program) + readelf("-s", program):
        return  # the sanitizer build leaves _FORTIFY_SOURCE out (ASan checks instead)
    assert symbols - {"__stack_chk_fail"}, "no fortified calls (-D_FORTIFY_SOURCE=2 with -O)"
