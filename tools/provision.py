"""`make odoo`: the Odoo 18.0 and 19.0 sources and their virtualenvs under the checkout (.odoo/).

Where each version's source comes from, first match wins:

- ``ODOO_SOURCE_18`` / ``ODOO_SOURCE_19``: a local source tree (used where it is, through a
  symbolic link), an archive (``.tar.gz``, ``.tgz``, ``.tar``, ``.zip``, unpacked), or a git URL
  (cloned at ``ODOO_REF_18`` / ``ODOO_REF_19``, a branch, tag or commit);
- otherwise the official repository, ``https://github.com/odoo/odoo.git``, at ``ODOO_REF_<major>``
  (default: the version's branch).

The virtualenv gets the tree's ``requirements.txt`` with the fixes these pins need on a current
Python and pip: ``psycopg2-binary`` instead of ``psycopg2`` (no PostgreSQL headers needed),
no ``python-ldap`` (the addon does not use it, and it needs the LDAP headers), ``setuptools<70``
while building (``cbor2==5.4.2`` does not build with a newer one), then ``setuptools>=70,<81``
(older ones do not find ``zope.interface`` for gevent; 81 has no ``pkg_resources`` at all).

A stamp in the virtualenv records what it was built from: a later run that names no source, or
the same one, reuses it; another source (or ref) rebuilds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".odoo"
OFFICIAL = "https://github.com/odoo/odoo.git"
ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip")
BUILD_CONSTRAINTS = "setuptools<70\n"
RUNTIME_SETUPTOOLS = "setuptools>=70,<81"


class ProvisionError(RuntimeError):
    """A provisioning step failed; the message says which and what to do."""


def say(message: str) -> None:
    print(f"[odoo] {message}", flush=True)


def source_of(version: str) -> str:
    major = version.split(".")[0]
    return os.environ.get(f"ODOO_SOURCE_{major}") or OFFICIAL


def ref_of(version: str) -> str:
    return os.environ.get(f"ODOO_REF_{version.split('.')[0]}") or version


def tree_path(version: str) -> Path:
    return HOME / version


def python_path(version: str) -> Path:
    return HOME / f"venv{version.split('.')[0]}" / "bin" / "python"


def is_provisioned(version: str) -> bool:
    return (python_path(version).parent.parent / ".provisioned").exists() and (
        tree_path(version) / "odoo" / "release.py"
    ).exists()


def fixed_requirements(text: str) -> str:
    """The tree's requirements with the fixes above: psycopg2-binary, no python-ldap."""
    lines = []
    for line in text.splitlines():
        name = re.split(r"[\s=<>!~;\[]", line.strip(), maxsplit=1)[0].lower()
        if name == "python-ldap":
            continue
        if name == "psycopg2":
            line = re.sub(r"^\s*psycopg2\b", "psycopg2-binary", line, flags=re.I)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _run(command: list[str], what: str, **kwargs) -> None:
    result = subprocess.run(command, check=False, **kwargs)
    if result.returncode != 0:
        raise ProvisionError(f"{what} failed (exit {result.returncode}): {' '.join(map(str, command))}")


def _unpack(archive: Path, target: Path) -> None:
    """Unpack an archive into target; a single top-level directory is stripped."""
    with tempfile.TemporaryDirectory(dir=HOME) as scratch:
        scratch_path = Path(scratch)
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(scratch_path)  # noqa: S202 (zipfile drops absolute and ".." paths itself)
        else:
            if not hasattr(tarfile, "data_filter"):
                raise ProvisionError(f"Unpacking {archive} safely needs Python 3.10.12 or later (tarfile filters).")
            with tarfile.open(archive) as bundle:
                bundle.extractall(scratch_path, filter="data")
        entries = list(scratch_path.iterdir())
        if len(entries) == 1 and entries[0].is_dir():
            shutil.move(str(entries[0]), str(target))
        else:
            shutil.copytree(scratch_path, target)


def fetch_source(version: str) -> None:
    """Put the version's source at .odoo/<version> (a link to a local tree, else a copy)."""
    source, target = source_of(version), tree_path(version)
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    local = Path(source).expanduser()
    if local.is_dir():
        say(f"Odoo {version}: using the tree at {local}")
        target.symlink_to(local.resolve(), target_is_directory=True)
    elif local.is_file() and local.name.endswith(ARCHIVES):
        say(f"Odoo {version}: unpacking {local}")
        _unpack(local, target)
    elif re.match(r"^(https?|git|ssh|file)://|^[\w.-]+@[\w.-]+:", source):
        ref = ref_of(version)
        say(f"Odoo {version}: cloning {source} at {ref} (shallow)")
        _run(["git", "init", "-q", str(target)], "git init")
        _run(
            ["git", "-C", str(target), "fetch", "-q", "--depth", "1", source, ref],
            f"fetching {source} {ref} (without network, set ODOO_SOURCE_{version.split('.')[0]} to a local tree or "
            "archive)",
        )
        _run(["git", "-C", str(target), "checkout", "-q", "FETCH_HEAD"], "git checkout")
    else:
        raise ProvisionError(
            f"ODOO_SOURCE_{version.split('.')[0]}={source!r} is neither a directory, an archive "
            f"({', '.join(ARCHIVES)}) nor a git URL."
        )
    release = target / "odoo" / "release.py"
    found = re.search(r"^version_info = \((\d+), (\d+)", release.read_text(), re.M) if release.exists() else None
    if not found or f"{found.group(1)}.{found.group(2)}" != version:
        raise ProvisionError(f"{source} does not hold Odoo {version} (no odoo/release.py of that version).")


def build_venv(version: str, stamp_text: str) -> None:
    venv = python_path(version).parent.parent
    if venv.exists():
        shutil.rmtree(venv)
    base = os.environ.get("ODOO_BASE_PYTHON") or shutil.which("python3") or sys.executable
    say(f"Odoo {version}: creating {venv.relative_to(ROOT)} with {base}")
    _run([base, "-m", "venv", str(venv)], "creating the virtualenv")
    pip = [str(python_path(version)), "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "install", "--quiet", "--upgrade", "pip"], "upgrading pip")
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(fixed_requirements((tree_path(version) / "requirements.txt").read_text()))
        constraints = Path(scratch) / "build-constraints.txt"
        constraints.write_text(BUILD_CONSTRAINTS)
        say(f"Odoo {version}: installing its requirements (a few minutes)")
        # A build constraint reaches only the isolated build environments (cbor2's build).
        _run(
            [*pip, "install", "--quiet", "--build-constraint", str(constraints), "-r", str(requirements)],
            "installing Odoo's requirements",
        )
    _run([*pip, "install", "--quiet", RUNTIME_SETUPTOOLS], "installing setuptools")
    (venv / ".provisioned").write_text(stamp_text)


def provision(version: str) -> tuple[Path, Path]:
    """Provision one version (idempotent); returns (tree, python)."""
    HOME.mkdir(exist_ok=True)
    stamp_text = f"{source_of(version)}\n{ref_of(version)}\n"
    with open(HOME / f".lock-{version}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = python_path(version).parent.parent / ".provisioned"
        # Kept while nothing names another source: a tree provisioned from ODOO_SOURCE_<major>
        # is not replaced by the official one when a later run does not set the variable.
        named = os.environ.get(f"ODOO_SOURCE_{version.split('.')[0]}") or os.environ.get(
            f"ODOO_REF_{version.split('.')[0]}"
        )
        if is_provisioned(version) and (not named or stamp.read_text().startswith(stamp_text)):
            return tree_path(version), python_path(version)
        fetch_source(version)
        requirements = (tree_path(version) / "requirements.txt").read_bytes()
        build_venv(version, stamp_text + hashlib.sha256(requirements).hexdigest() + "\n")
        say(f"Odoo {version}: ready ({tree_path(version).relative_to(ROOT)}, {python_path(version).relative_to(ROOT)})")
    return tree_path(version), python_path(version)


def main(argv: list[str]) -> int:
    versions = argv or (os.environ.get("ODOO_VERSIONS") or "18.0 19.0").split()
    try:
        for version in versions:
            provision(version)
    except ProvisionError as error:
        print(f"\nERROR: {error}\n", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
