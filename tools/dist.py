"""`make dist`: what users install, built into dist/ and checked.

- the sdist of mcp_connect_core;
- its abi3 wheels that this machine can build: manylinux2014 x86_64 with maturin's ``--zig`` (PyPI's
  ziglang links against glibc 2.17), and manylinux2014 aarch64 with Debian's ``rustc-web`` compiler
  and its aarch64 standard library (rustup's targets are not reachable here; ``--no-debian-rust``
  skips it). Each is checked with ``auditwheel show``; the host's wheel is installed in a clean
  virtualenv, with no Rust on its PATH, that runs tests/test_binding.py;
- the addon archives, ``mcp_connect-<series>.<version>.zip`` for Odoo 18.0 and 19.0, with the
  manifest version rewritten to the series, each unpacked into an addons path and loaded by that
  Odoo's own manifest reader and importer.

The musllinux, macOS and Windows wheels come from the release workflow (.github/workflows/release.yml).
"""

import argparse
import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
ADDON = ROOT / "odoo_addon" / "mcp_connect"
NATIVE = ADDON / "native.py"
REQUIREMENTS = ROOT / "requirements.txt"
BINDING_TEST = ROOT / "tests" / "test_binding.py"
DEBIAN_RUST = ROOT / ".tools" / "debian-rust"
SERIES = ("18.0", "19.0")
MANIFEST_VERSION = re.compile(r'^(?P<indent>\s*)"version":\s*"(?P<version>[^"]*)",\s*$', re.MULTILINE)
# Debian's newer Rust (bookworm's rustc-web) and the standard library of the host and of aarch64;
# debian_packages() adds the runtime libraries they depend on, whose names carry their versions.
DEBIAN_PACKAGES = ("rustc-web", "libstd-rust-web-dev", "libstd-rust-web-dev:arm64")

# Only the test files of the binding: tests/test_binding.py reads no other file of the checkout.
BINDING_TEST_REQUIREMENTS = ("pytest==9.2.0", "argon2-cffi==25.1.0")


class DistError(Exception):
    pass


def say(message: str) -> None:
    print(f"[dist] {message}", flush=True)


def core_version() -> str:
    """The workspace's crate version: the version of the wheels and of the sdist."""
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]


def addon_core_version() -> str:
    """CORE_VERSION of the addon's native.py, read without importing it (it imports Odoo)."""
    for node in ast.parse(NATIVE.read_text()).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["CORE_VERSION"]:
            return node.value.value
    raise DistError(f"{NATIVE} has no CORE_VERSION")


def required_core_version() -> str:
    """The version requirements.txt pins the core at."""
    pins = re.findall(r"^mcp-connect-core==(\S+)\s*$", REQUIREMENTS.read_text(), re.MULTILINE)
    if len(pins) != 1:
        raise DistError(f"{REQUIREMENTS} must pin mcp-connect-core==<version> on one line")
    return pins[0]


def check_versions() -> str:
    """The core being built, the one the addon checks for and the one requirements.txt installs agree."""
    built, checked, pinned = core_version(), addon_core_version(), required_core_version()
    if not built == checked == pinned:
        raise DistError(
            f"the core is {built} (Cargo.toml), the addon checks for {checked} (native.py) and "
            f"requirements.txt installs {pinned}: make them one version"
        )
    return built


def series_version(manifest_version: str, series: str) -> str:
    """``1.0.0`` (or ``18.0.1.0.0`` of any series) as ``<series>.1.0.0``."""
    parts = manifest_version.split(".")
    if len(parts) == 5 and f"{parts[0]}.{parts[1]}" in SERIES:
        parts = parts[2:]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise DistError(f"manifest version {manifest_version!r} is neither x.y.z nor <series>.x.y.z")
    return f"{series}.{'.'.join(parts)}"


def manifest_for_series(text: str, series: str) -> tuple[str, str]:
    """The manifest's text with its version rewritten to the series, and that version."""
    found = MANIFEST_VERSION.findall(text)
    if len(found) != 1:
        raise DistError('the manifest must have one "version": "..." line')
    version = series_version(found[0][1], series)
    rewritten = MANIFEST_VERSION.sub(lambda m: f'{m["indent"]}"version": "{version}",', text)
    if ast.literal_eval(rewritten)["version"] != version:
        raise DistError("the rewritten manifest does not read back its version")
    return rewritten, version


def addon_files() -> list[Path]:
    """The addon's files under version control: no __pycache__, editor or build leftovers."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", str(ADDON)], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    files = [ROOT / name.decode() for name in listed if name]
    if not files:
        raise DistError(f"git lists no file under {ADDON}")
    return sorted(file for file in files if file.is_file())


def build_addon_archive(series: str, out: Path) -> Path:
    """``mcp_connect-<series>.x.y.z.zip``: the addon directory as an addons path receives it."""
    manifest, version = manifest_for_series((ADDON / "__manifest__.py").read_text(), series)
    archive = out / f"{ADDON.name}-{version}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in addon_files():
            name = f"{ADDON.name}/{file.relative_to(ADDON).as_posix()}"
            if file.name == "__manifest__.py" and file.parent == ADDON:
                zipped.writestr(name, manifest)
            else:
                zipped.write(file, name)
    return archive


JUNK = re.compile(r"(^|/)(__pycache__|\.[^/]*)(/|$)|\.(pyc|pyo|so|orig|rej)$|~$")


def check_addon_archive(archive: Path, series: str) -> None:
    """One top-level directory, no junk, a manifest of the series that parses."""
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        junk = [name for name in names if JUNK.search(name)]
        if junk:
            raise DistError(f"{archive.name} holds {', '.join(junk)}")
        tops = {name.split("/")[0] for name in names}
        if tops != {ADDON.name}:
            raise DistError(f"{archive.name} must hold only {ADDON.name}/, not {', '.join(sorted(tops))}")
        manifest = ast.literal_eval(zipped.read(f"{ADDON.name}/__manifest__.py").decode())
    if not manifest["version"].startswith(f"{series}."):
        raise DistError(f"{archive.name}: manifest version {manifest['version']} is not of {series}")
    if not manifest.get("installable", True):
        raise DistError(f"{archive.name}: the manifest says it is not installable")


# Run by the Odoo's own Python: its manifest reader and importer on the unpacked archive.
ODOO_LOAD = """\
import sys
import odoo
from odoo.modules import module

addons = sys.argv[1]
paths = odoo.tools.config["addons_path"]
# A comma-separated string on 18.0, a list on 19.0.
if isinstance(paths, str):
    odoo.tools.config["addons_path"] = ",".join([addons, *paths.split(",")])
else:
    odoo.tools.config["addons_path"] = [addons, *paths]
module.initialize_sys_path()
if hasattr(module, "Manifest"):
    manifest = module.Manifest.for_addon("mcp_connect")
else:
    manifest = module.get_manifest("mcp_connect")
assert manifest and manifest["installable"], "Odoo finds no installable mcp_connect"
import odoo.addons.mcp_connect as addon
assert addon.__file__.startswith(addons), addon.__file__
print(manifest["version"])
"""


def load_in_odoo(archive: Path, series: str) -> str:
    """Unpack the archive into an empty addons path and have that Odoo read and import the addon."""
    odoo = harness.OdooInstall.locate(series)
    harness.install_wheel(odoo)
    with tempfile.TemporaryDirectory(prefix="mcp-addons-") as addons:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(addons)
        result = subprocess.run(
            [str(odoo.python), "-c", ODOO_LOAD, addons], env=odoo.env(), capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        raise DistError(f"Odoo {series} cannot load {archive.name}:\n{result.stderr.strip()}")
    return result.stdout.strip()


def maturin(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(Path(sys.executable).parent / "maturin"), *args], cwd=ROOT, env=env, check=True)


def tool_env() -> dict[str, str]:
    """This virtualenv's tools (maturin, ziglang's python -m ziglang, auditwheel) first on PATH."""
    return {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}


def build_wheel(target: str, compatibility: str, env: dict[str, str], out: Path) -> Path:
    before = set(out.glob("*.whl"))
    args = ["build", "--release", "--quiet", "--zig", "--target", target, "--compatibility", compatibility]
    maturin(*args, "-o", str(out), env=env)
    [wheel] = set(out.glob("*.whl")) - before
    return wheel


def debian_dependency(package: str, prefix: str) -> str:
    """The package named ``prefix...`` that ``package`` depends on (``libstd-rust-web-1.96``, ``libllvm22``)."""
    listed = subprocess.run(["apt-cache", "depends", package], capture_output=True, text=True, check=True).stdout
    found = re.findall(rf"^\s*Depends: ({re.escape(prefix)}\S*)$", listed, re.MULTILINE)
    if not found:
        raise DistError(f"Debian's {package} depends on no {prefix}*")
    return found[0]


def debian_packages() -> list[str]:
    """DEBIAN_PACKAGES and the versioned libraries that rustc-web runs with, for the host and arm64."""
    runtime = debian_dependency("libstd-rust-web-dev", "libstd-rust-web-")
    llvm = debian_dependency(runtime, "libllvm")
    return [*DEBIAN_PACKAGES, runtime, f"{runtime}:arm64", llvm]


def debian_rust_env() -> dict[str, str] | None:
    """Build environment with Debian's rustc-web (unpacked under .tools/), or None when not to be had."""
    rustc = DEBIAN_RUST / "usr" / "bin" / "rustc"
    library_path = DEBIAN_RUST / "usr" / "lib" / "x86_64-linux-gnu"
    complete = DEBIAN_RUST / ".complete"
    if not complete.exists():
        shutil.rmtree(DEBIAN_RUST, ignore_errors=True)
        if not shutil.which("apt-get"):
            say("no apt-get: the aarch64 wheel comes from the release workflow")
            return None
        foreign = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout
        if "arm64" not in foreign.split():
            if os.geteuid() != 0:
                say("Debian's arm64 packages are not listed (dpkg --add-architecture arm64, as root)")
                return None
            subprocess.run(["dpkg", "--add-architecture", "arm64"], check=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True)
        debs = DEBIAN_RUST / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        packages = debian_packages()
        say(f"downloading Debian's {', '.join(packages)} into {debs}")
        fetched = subprocess.run(["apt-get", "download", "-q", *packages], cwd=debs, check=False)
        if fetched.returncode != 0:
            say("Debian's Rust packages could not be downloaded: no aarch64 wheel")
            return None
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(DEBIAN_RUST)], check=True)
        probe = subprocess.run(
            [str(rustc), "-vV"], env={**os.environ, "LD_LIBRARY_PATH": str(library_path)}, check=False
        )
        if probe.returncode != 0:
            raise DistError(f"Debian's rustc unpacked in {DEBIAN_RUST} does not run")
        complete.touch()
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debian-rustc"
    return {
        **tool_env(),
        "RUSTC": str(rustc),
        "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [str(library_path), os.environ.get("LD_LIBRARY_PATH")])),
        # Its own target directory: the rustup toolchain's builds keep theirs.
        "CARGO_TARGET_DIR": str(target_dir),
    }


def auditwheel_show(wheel: Path, expected_tag: str) -> str:
    """auditwheel's report, which must find the wheel consistent with ``expected_tag``."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "auditwheel"), "show", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    report = " ".join((result.stdout + result.stderr).split())
    if result.returncode != 0 or f'consistent with the following platform tag: "{expected_tag}"' not in report:
        raise DistError(f"auditwheel does not find {wheel.name} {expected_tag}:\n{result.stdout}{result.stderr}")
    return (result.stdout + result.stderr).strip()


def without_rust_path() -> str:
    """PATH without any directory that holds cargo or rustc."""
    kept = [
        entry
        for entry in os.environ["PATH"].split(os.pathsep)
        if entry and not any((Path(entry) / tool).exists() for tool in ("cargo", "rustc", "rustup", "maturin"))
    ]
    return os.pathsep.join(kept)


def check_in_clean_venv(wheel: Path) -> None:
    """A new virtualenv, with no Rust on PATH and only the wheel and the test tools, runs the binding tests."""
    with tempfile.TemporaryDirectory(prefix="mcp-wheel-check-") as work:
        venv = Path(work) / "venv"
        env = {"PATH": without_rust_path(), "HOME": work, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        if shutil.which("cargo", path=env["PATH"]) or shutil.which("rustc", path=env["PATH"]):
            raise DistError("Rust is still on the clean virtualenv's PATH")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
        python = str(venv / "bin" / "python")
        env["PATH"] = os.pathsep.join([str(venv / "bin"), env["PATH"]])
        # --only-binary: the core must come from the wheel, never from a build of the sdist.
        pip = [python, "-m", "pip", "install", "--quiet", "--only-binary", ":all:"]
        subprocess.run([*pip, str(wheel), *BINDING_TEST_REQUIREMENTS], check=True, env=env)
        tests = Path(work) / "tests"
        tests.mkdir()
        shutil.copy(BINDING_TEST, tests)
        # Outside the checkout, so that only the installed wheel can be imported.
        subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(tests)],
            check=True,
            env=env,
            cwd=work,
        )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-debian-rust", action="store_true", help="build no aarch64 wheel")
    parser.add_argument(
        "--addons-only",
        action="store_true",
        help="only the addon archives, checked without Odoo (the release workflow)",
    )
    options = parser.parse_args()

    version = check_versions()
    say(f"mcp_connect_core {version}")
    shutil.rmtree(DIST, ignore_errors=True)
    DIST.mkdir()
    built = [] if options.addons_only else build_core(options)

    for series in SERIES:
        archive = build_addon_archive(series, DIST)
        check_addon_archive(archive, series)
        if not options.addons_only:
            say(f"Odoo {series} loads {archive.name} (version {load_in_odoo(archive, series)})")
        built.append(archive)

    say("built and checked:")
    for path in built:
        print(f"  {path.relative_to(ROOT)}  {path.stat().st_size:>9,} bytes  sha256 {sha256(path)[:16]}")
    return 0


def build_core(options: argparse.Namespace) -> list[Path]:
    """The sdist and the wheels this machine can build, each checked."""
    built = []

    maturin("sdist", "-o", str(DIST), env=tool_env())
    built.append(next(DIST.glob("*.tar.gz")))

    host = build_wheel("x86_64-unknown-linux-gnu", "manylinux2014", tool_env(), DIST)
    print(auditwheel_show(host, "manylinux_2_17_x86_64"), flush=True)
    check_in_clean_venv(host)
    built.append(host)

    debian = None if options.no_debian_rust else debian_rust_env()
    if debian:
        arm = build_wheel("aarch64-unknown-linux-gnu", "manylinux2014", debian, DIST)
        print(auditwheel_show(arm, "manylinux_2_17_aarch64"), flush=True)
        built.append(arm)
    return built


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (DistError, harness.HarnessError) as error:
        print(f"[dist] error: {error}", file=sys.stderr)
        sys.exit(1)
