"""The lock files the venv installs from (`make` runs `pip install --require-hashes -r requirements*.lock`):
every package pinned with its hashes, and in step with requirements*.txt, which `make lock` resolves into them.

Offline and independent of the shared conftest: it reads the files and asks `make -n` what it would run.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STALE = "run `make lock` (and commit the lock files)"
LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")
HASH = re.compile(r"^    --hash=sha256:[0-9a-f]{64}( \\)?$")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def asked(file: str) -> dict[str, str]:
    """name -> version of each `name==version` in a requirements file, following its `-r` includes."""
    found: dict[str, str] = {}
    for line in (ROOT / file).read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found |= asked(line.removeprefix("-r ").strip())
            continue
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)$", line)
        assert match, f"{file}: {line!r} is not pinned with =="
        found[_name(match[1])] = match[2]
    return found


def locked(file: str) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a lock file; asserts every package in it is pinned with its hashes."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    current: str | None = None
    for line in (ROOT / file).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            current = None
            continue
        if match := LOCKED.match(line):
            current = _name(match[1])
            assert current not in found, f"{file} locks {current} twice"
            found[current] = (match[2], frozenset())
            continue
        assert current is not None and HASH.match(line), f"{file}: {line!r} is neither a pin nor its hash"
        version, hashes = found[current]
        found[current] = (version, hashes | {line.split("=", 1)[1].removesuffix(" \\")})
    assert found, f"{file} locks nothing"
    for name, (_, hashes) in found.items():
        assert hashes, f"{file}: {name} has no hash"
    return found


@pytest.mark.parametrize(("requirements", "lock"), [("requirements.txt", "requirements.lock"),
                                                    ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_pin_of_the_requirements_is_in_its_lock(requirements: str, lock: str) -> None:
    versions = {name: version for name, (version, _) in locked(lock).items()}
    for name, version in asked(requirements).items():
        assert versions.get(name) == version, \
            f"{requirements} asks for {name}=={version}, {lock} has {versions.get(name)}: {STALE}"


def test_the_runtime_lock_is_the_dev_lock_less_the_dev_tools() -> None:
    """Resolved together: the dev venv installs requirements-dev.lock over requirements.lock and changes nothing."""
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime, STALE
    assert {"pytest", "ruff"} <= set(dev) - set(runtime)


def test_the_venv_gets_a_pip_that_installs_the_lock() -> None:
    """pip before 23.3 refuses the hash-checked install (PyJWT is asked for with and without its crypto extra)."""
    [(name, (version, _))] = locked("requirements-pip.lock").items()
    assert name == "pip" and tuple(int(part) for part in version.split(".")[:2]) >= (23, 3)


def test_the_locks_name_no_machine_s_index_or_folder() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock", "requirements-pip.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert not re.search(r"^-|--(?:index-url|extra-index-url|find-links|trusted-host)", text, re.MULTILINE), lock
        assert "#    make lock" in text, f"{lock} was not written by `make lock`"


def test_make_installs_the_venv_from_the_locks_checking_the_hashes(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    result = subprocess.run(["make", "-n", "-B", "--no-print-directory", f"VENV={venv}", f"{venv}/.dev"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    installs = [line for line in result.stdout.splitlines() if " -m pip install " in line]
    assert [line.rsplit(" -r ", 1)[1] for line in installs] == \
        ["requirements-pip.lock", "requirements.lock", "requirements-dev.lock"], result.stdout
    assert all("--require-hashes" in line for line in installs), result.stdout
