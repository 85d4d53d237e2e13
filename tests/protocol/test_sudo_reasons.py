"""Every ``sudo()`` of the addons says why it needs the superuser's rights.

A call to ``.sudo()`` must have a comment that names it (``# sudo: <why>``) on its own line,
or in the comment lines right above the statement it is in (a comment inside a statement that
spans several lines counts too); in the XML views (QWeb expressions), an ``<!-- sudo: <why> -->``
on the line or the line above. Read from the sources (``ast`` and ``tokenize``), so a call on
a path no test reaches counts as well. ``sudo(False)`` gives rights up and needs no reason. The
addons' own tests are left out: their ``sudo()`` prepares fixtures, it is no right a user gets.
"""

import ast
import io
import tokenize

import pytest

from .support import ADDON

ADDONS = ADDON.parent
SOURCES = sorted(
    path for path in ADDONS.glob("*/**/*.py") if "tests" not in path.relative_to(ADDONS).parts and path.is_file()
)
VIEWS = sorted(ADDONS.glob("*/**/*.xml"))


def _comments(source):
    """``{line: comment text}`` of the source's comments."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def _elevates(call):
    """Whether ``call`` is ``x.sudo()`` or ``x.sudo(True)``, not ``x.sudo(False)``."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "sudo"):
        return False
    return not (call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value is False)


def _calls_by_statement(tree):
    """``(first line of the innermost statement, line of the call)`` for each ``sudo()`` call."""
    found = []

    def visit(node, statement_line):
        if isinstance(node, ast.stmt):
            statement_line = node.lineno
        if isinstance(node, ast.Call) and _elevates(node):
            found.append((statement_line, node.func.end_lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, statement_line)

    visit(tree, 1)
    return found


def unexplained_sudo(source):
    """The lines of the ``sudo()`` calls in ``source`` that no ``sudo`` comment explains."""
    comments = _comments(source)
    lines = source.splitlines()
    missing = []
    for statement_line, call_line in _calls_by_statement(ast.parse(source)):
        first = statement_line
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        explained = any("sudo" in comments.get(line, "") for line in range(first, call_line + 1))
        if not explained:
            missing.append(call_line)
    return missing


def test_the_check_finds_the_sudo_calls_of_the_addons():
    calls = sum(len(_calls_by_statement(ast.parse(path.read_text()))) for path in SOURCES)
    assert calls > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.relative_to(ADDONS).as_posix())
def test_every_sudo_says_why(path):
    missing = unexplained_sudo(path.read_text())
    assert not missing, f"sudo() without a '# sudo: <why>' comment at lines {missing}"


def unexplained_sudo_in_xml(text):
    """The lines of the ``sudo()`` calls in an XML file without ``sudo:`` in a comment on the line or the line above."""
    lines = text.splitlines()
    return [
        number
        for number, line in enumerate(lines, 1)
        if "sudo()" in line.split("<!--")[0]
        and not any("<!--" in near and "sudo:" in near for near in (line, lines[number - 2] if number > 1 else ""))
    ]


@pytest.mark.parametrize("path", VIEWS, ids=lambda path: path.relative_to(ADDONS).as_posix())
def test_every_sudo_of_the_views_says_why(path):
    missing = unexplained_sudo_in_xml(path.read_text())
    assert not missing, f"sudo() without an '<!-- sudo: <why> -->' comment at lines {missing}"


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ('<t t-set="c" t-value="user.sudo().company_id"/>', [1]),
        ('<!-- the brand -->\n<t t-set="c" t-value="user.sudo().company_id"/>', [2]),
        ('<!-- sudo: the public user -->\n<t t-set="c" t-value="user.sudo().company_id"/>', []),
        ("<!-- not sudo() here -->", []),
    ],
)
def test_the_view_check_itself(text, missing):
    assert unexplained_sudo_in_xml(text) == missing


@pytest.mark.parametrize(
    ("source", "missing"),
    [
        ("records = env['x'].sudo().search([])\n", [1]),
        ("# all of them\nrecords = env['x'].sudo().search([])\n", [2]),
        ("records = env['x'].sudo().search([])  # sudo: the cron runs without a user\n", []),
        ("# sudo: the cron runs without a user\nrecords = env['x'].sudo().search([])\n", []),
        ("# sudo: a reason\n# on two lines\nrecords = env['x'].sudo().search([])\n", []),
        ("records = (\n    env['x']\n    # sudo: the cron runs without a user\n    .sudo()\n    .search([])\n)\n", []),
        ("# sudo: only for the loop's own line\nfor r in env['x'].sudo().search([]):\n    r.sudo().unlink()\n", [3]),
        ("records = env['x'].sudo(False)\n", []),
        ("text = 'sudo()'\n", []),
    ],
)
def test_the_check_itself(source, missing):
    assert unexplained_sudo(source) == missing
