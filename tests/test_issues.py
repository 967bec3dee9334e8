"""The issue catalogue is closed, Vietnamese (NFC) and complete for every code the code emits."""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path

import pytest

from danhgia_batch.issues import CATALOGUE, Severity, make_issue

PACKAGE = Path(__file__).resolve().parents[1] / "danhgia_batch"


def _emitted_codes() -> set[tuple[str, str]]:
    """(file, code) for every string literal passed as first argument to make_issue()."""
    found: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == "make_issue" and node.args and isinstance(node.args[0], ast.Constant):
                found.add((path.name, str(node.args[0].value)))
    return found


def test_every_emitted_code_is_in_the_catalogue() -> None:
    emitted = _emitted_codes()
    assert emitted, "no make_issue() call found: the scan itself is broken"
    unknown = sorted((f, c) for f, c in emitted if c not in CATALOGUE)
    assert unknown == []


def _package_literals() -> set[str]:
    """Every string literal of the package outside issues.py (codes are often passed around
    in variables and tables before they reach make_issue())."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "issues.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_catalogue_code_is_emitted_somewhere() -> None:
    # a code nobody emits promises a check that does not exist
    assert sorted(set(CATALOGUE) - _package_literals()) == []


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_catalogue_entry_is_kebab_case_vietnamese_nfc(code: str) -> None:
    entry = CATALOGUE[code]
    assert code == code.lower() and " " not in code and "_" not in code
    for text in (entry.title, entry.template):
        assert unicodedata.is_normalized("NFC", text)
    assert isinstance(entry.severity, Severity)
    # Rendering never fails, even with no parameters.
    issue = make_issue(code, sheet="DanhSach", cell="B12", column="Họ và tên", value="x")
    assert issue.code == code and issue.cell == "B12" and issue.message


def test_make_issue_fills_the_template() -> None:
    issue = make_issue(
        "score-range", sheet="DanhSach", cell="I12", row=12, column="Tự chấm Phần I", value="25", minimum=0, maximum=20
    )
    assert issue.severity is Severity.ERROR
    assert "25" in issue.message and "20" in issue.message
    assert issue.where() == "trang tính DanhSach, ô I12"


def test_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        make_issue("no-such-code")
