"""`make odoo` (tools/provision.py): where a version's source comes from and when it is rebuilt.

The virtualenv build (pip) is replaced by a stamp writer: these tests are about the decisions,
which run in milliseconds; the real build runs in `ODOO_SOURCE_18=... make test`.
"""

import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import provision


def odoo_tree(path, version="18.0"):
    major, minor = version.split(".")
    (path / "odoo").mkdir(parents=True)
    (path / "odoo" / "release.py").write_text(f"version_info = ({major}, {minor}, 0, 'final', 0, '')\n")
    (path / "requirements.txt").write_text("psycopg2==2.9.5 ; python_version == '3.11'\n")
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setattr(provision, "ROOT", tmp_path)
    monkeypatch.setattr(provision, "HOME", tmp_path / ".odoo")
    for name in ("ODOO_SOURCE_18", "ODOO_REF_18"):
        monkeypatch.delenv(name, raising=False)
    builds = []

    def build_venv(version, stamp_text):
        venv = provision.python_path(version).parent.parent
        venv.mkdir(parents=True, exist_ok=True)
        (venv / ".provisioned").write_text(stamp_text)
        builds.append(version)

    monkeypatch.setattr(provision, "build_venv", build_venv)
    return builds


def test_requirements_get_the_known_fixes():
    text = "psycopg2==2.9.5 ; python_version == '3.11'\npython-ldap==3.4.0 ; sys_platform != 'win32'\nlxml==5.2.1\n"
    fixed = provision.fixed_requirements(text)
    assert "psycopg2-binary==2.9.5 ; python_version == '3.11'" in fixed
    assert "python-ldap" not in fixed
    assert "lxml==5.2.1" in fixed


def test_a_local_tree_is_linked_and_built_once(home, tmp_path, monkeypatch):
    source = odoo_tree(tmp_path / "src18")
    monkeypatch.setenv("ODOO_SOURCE_18", str(source))
    tree, _python = provision.provision("18.0")
    assert tree.is_symlink() and tree.resolve() == source.resolve()
    provision.provision("18.0")
    assert home == ["18.0"]


def test_a_provisioned_tree_is_kept_when_no_source_is_named(home, tmp_path, monkeypatch):
    """A later run without ODOO_SOURCE_18 must not replace the tree with the official one."""
    source = odoo_tree(tmp_path / "src18")
    monkeypatch.setenv("ODOO_SOURCE_18", str(source))
    provision.provision("18.0")
    monkeypatch.delenv("ODOO_SOURCE_18")
    monkeypatch.setattr(provision, "fetch_source", lambda version: pytest.fail("fetched again"))
    tree, _python = provision.provision("18.0")
    assert tree.resolve() == source.resolve()
    assert home == ["18.0"]


def test_another_source_or_ref_rebuilds(home, tmp_path, monkeypatch):
    first, second = odoo_tree(tmp_path / "a"), odoo_tree(tmp_path / "b")
    monkeypatch.setenv("ODOO_SOURCE_18", str(first))
    provision.provision("18.0")
    monkeypatch.setenv("ODOO_SOURCE_18", str(second))
    tree, _python = provision.provision("18.0")
    assert tree.resolve() == second.resolve()
    monkeypatch.setenv("ODOO_REF_18", "18.0-other")
    provision.provision("18.0")
    assert home == ["18.0", "18.0", "18.0"]


def test_an_archive_is_unpacked_without_its_top_directory(home, tmp_path, monkeypatch):
    odoo_tree(tmp_path / "odoo-18.0")
    archive = tmp_path / "odoo-18.0.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        bundle.add(tmp_path / "odoo-18.0", arcname="odoo-18.0")
    monkeypatch.setenv("ODOO_SOURCE_18", str(archive))
    tree, _python = provision.provision("18.0")
    assert not tree.is_symlink() and (tree / "odoo" / "release.py").exists()


def test_a_source_of_another_version_or_kind_is_refused(home, tmp_path, monkeypatch):
    monkeypatch.setenv("ODOO_SOURCE_18", str(odoo_tree(tmp_path / "src19", version="19.0")))
    with pytest.raises(provision.ProvisionError, match=r"does not hold Odoo 18\.0"):
        provision.provision("18.0")
    monkeypatch.setenv("ODOO_SOURCE_18", str(tmp_path / "nothing-here.txt"))
    with pytest.raises(provision.ProvisionError, match="neither a directory"):
        provision.provision("18.0")
    assert home == []
