"""`make dist` (tools/dist.py): the addon archives and the one core version. The wheels themselves
are built and checked (auditwheel, a clean virtualenv) by `make dist`, which takes minutes."""

import ast
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import dist


@pytest.mark.parametrize(
    ("source", "series", "expected"),
    [("1.0.0", "18.0", "18.0.1.0.0"), ("1.2.3", "19.0", "19.0.1.2.3"), ("18.0.1.0.4", "19.0", "19.0.1.0.4")],
)
def test_series_version(source, series, expected):
    assert dist.series_version(source, series) == expected


@pytest.mark.parametrize("source", ["1.0", "17.0.1.0.0", "1.0.0.0", "1.0.x", ""])
def test_series_version_refuses_what_it_cannot_place(source):
    with pytest.raises(dist.DistError):
        dist.series_version(source, "18.0")


@pytest.mark.parametrize("series", dist.SERIES)
def test_archive_is_the_addon_of_its_series(tmp_path, series):
    archive = dist.build_addon_archive(series, tmp_path)
    source = ast.literal_eval((dist.ADDON / "__manifest__.py").read_text())
    assert archive.name == f"mcp_connect-{dist.series_version(source['version'], series)}.zip"
    dist.check_addon_archive(archive, series)
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        manifest = ast.literal_eval(zipped.read("mcp_connect/__manifest__.py").decode())
    # Everything but the version is the source manifest.
    assert {**manifest, "version": source["version"]} == source
    tracked = {f"mcp_connect/{path.relative_to(dist.ADDON).as_posix()}" for path in dist.addon_files()}
    assert names == tracked
    assert "mcp_connect/tests/__init__.py" in names


def test_archive_leaves_out_untracked_files(tmp_path):
    leftover = dist.ADDON / "tests" / "__pycache__" / "test_dist_leftover.cpython-311.pyc"
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_bytes(b"junk")
    try:
        archive = dist.build_addon_archive("18.0", tmp_path)
    finally:
        leftover.unlink()
    with zipfile.ZipFile(archive) as zipped:
        assert not [name for name in zipped.namelist() if "__pycache__" in name or name.endswith(".pyc")]


def rewrite(archive, tmp_path, name, content):
    """A copy of ``archive`` with ``name`` added or replaced."""
    copy = tmp_path / "copy" / archive.name
    copy.parent.mkdir()
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.namelist():
            if item != name:
                target.writestr(item, source.read(item))
        target.writestr(name, content)
    return copy


@pytest.mark.parametrize(
    "junk", ["mcp_connect/tests/__pycache__/common.cpython-311.pyc", "mcp_connect/.DS_Store", "mcp_connect/x.py~"]
)
def test_archive_check_refuses_junk(tmp_path, junk):
    archive = rewrite(dist.build_addon_archive("18.0", tmp_path), tmp_path, junk, b"x")
    with pytest.raises(dist.DistError, match="holds"):
        dist.check_addon_archive(archive, "18.0")


def test_archive_check_refuses_another_series(tmp_path):
    archive = dist.build_addon_archive("19.0", tmp_path)
    with pytest.raises(dist.DistError, match=r"not of 18\.0"):
        dist.check_addon_archive(archive, "18.0")


def test_archive_check_refuses_a_second_top_level_directory(tmp_path):
    archive = rewrite(dist.build_addon_archive("18.0", tmp_path), tmp_path, "other/__init__.py", b"")
    with pytest.raises(dist.DistError, match="only mcp_connect/"):
        dist.check_addon_archive(archive, "18.0")


def test_core_versions_agree():
    """The wheel built, the version the addon checks for and requirements.txt's pin are one."""
    assert dist.check_versions() == dist.core_version()


def test_core_versions_that_differ_are_refused(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("mcp-connect-core==0.0.1\n")
    monkeypatch.setattr(dist, "REQUIREMENTS", requirements)
    with pytest.raises(dist.DistError, match=r"requirements\.txt installs 0\.0\.1"):
        dist.check_versions()
