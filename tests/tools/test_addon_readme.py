"""tools/addon_readme.py: each addon's README.rst assembled from its readme/ fragments, and the
check `make lint` runs, which fails when a README.rst is not what its fragments give."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import addon_readme

MANIFEST = """{"name": "Some Addon", "summary": "Does a thing", "version": "1.0.0", "author": "Someone",
"website": "https://example.com/some", "license": "LGPL-3", "depends": ["base"]}"""


@pytest.fixture
def addons(tmp_path, monkeypatch):
    addon = tmp_path / "odoo_addon" / "some_addon"
    (addon / "readme").mkdir(parents=True)
    (addon / "__manifest__.py").write_text(MANIFEST)
    (addon / "readme" / "DESCRIPTION.md").write_text("Does a **thing** with `code`.\n")
    (addon / "readme" / "USAGE.md").write_text("1. First step,\n   on two lines.\n2. Second step.\n")
    monkeypatch.setattr(addon_readme, "ROOT", tmp_path)
    monkeypatch.setattr(addon_readme, "ADDONS", tmp_path / "odoo_addon")
    return addon


def test_the_committed_readmes_are_current():
    assert addon_readme.main(["--check"]) == 0


def test_a_fragment_changed_after_the_readme_fails_the_check(addons, capsys):
    assert addon_readme.main([]) == 0
    assert addon_readme.main(["--check"]) == 0
    (addons / "readme" / "USAGE.md").write_text("1. Another step.\n")
    assert addon_readme.main(["--check"]) == 1
    assert "odoo_addon/some_addon/README.rst" in capsys.readouterr().err
    assert addon_readme.main([]) == 0
    assert "Another step" in (addons / "README.rst").read_text()


def test_a_missing_readme_fails_the_check(addons):
    assert addon_readme.main(["--check"]) == 1
    assert not (addons / "README.rst").exists()


def test_the_sections_come_in_the_oca_order(addons):
    (addons / "readme" / "CONFIGURE.md").write_text("Set it up.\n")
    (addons / "readme" / "CONTRIBUTORS.md").write_text("- Ada\n")
    text = addon_readme.render(addons)
    order = ["Some Addon", "Does a **thing**", "Configuration", "Usage", "Bug Tracker", "Authors", "Contributors"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)


def test_an_addon_without_description_is_refused(addons):
    (addons / "readme" / "DESCRIPTION.md").unlink()
    with pytest.raises(SystemExit, match=r"DESCRIPTION\.md"):
        addon_readme.render(addons)


@pytest.mark.parametrize(
    ("markdown", "rst"),
    [
        ("A `code` span and *words*.", "A ``code`` span and *words*."),
        ("See [the docs](https://example.com/docs).", "See `the docs <https://example.com/docs>`__."),
        ("`[not](a link)` stays code.", "``[not](a link)`` stays code."),
        ("- one\n  more\n- two", "- one\n  more\n- two"),
        ("10. ten\n    more", "10. ten\n    more"),
        ("First.\n\n\nSecond.", "First.\n\nSecond."),
    ],
)
def test_markdown_to_rst(markdown, rst):
    assert addon_readme.markdown_to_rst(markdown) == rst + "\n"


def test_the_example_addon_has_its_readme_too():
    assert {path.name for path in addon_readme.addons()} >= {"mcp_connect", "mcp_connect_example"}
    assert (addon_readme.ADDONS / "mcp_connect_example" / "README.rst").is_file()
