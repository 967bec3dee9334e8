"""Imports go one way along the pipeline (STYLE.md); the CLI stays a thin shell."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "danhgia_batch"

# Stage order: a module may import stages at its own rank or lower.
RANK = {
    "intake": 1,
    "read": 2,
    "validate": 3,
    "rules": 4,
    "registry": 5,
    "ledger": 6,
    "reports": 6,  # same rank as ledger: they must not import each other
    "templates": 2,
    "pipeline": 7,
    "watch": 8,
    "sample": 8,  # the synthetic district and its registry (templates + models only)
    "workdir": 9,  # init writes the sample registry with sample.write_sample_registry
    "demo": 10,  # builds a work folder with workdir.init_workdir, then a month on top of it
    "cli": 11,
}
HEAVY = {"openpyxl", "pandas", "pandera", "sqlalchemy", "xlsxwriter", "watchdog", "python_calamine"}


def _module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    """(first component inside danhgia_batch or top-level module, level) of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, int]] = []
    depth = len(path.relative_to(PACKAGE).parts) - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("danhgia_batch"):
                parts = node.module.split(".")[1:]
                names = [a.name for a in node.names]
                out.append((parts[0] if parts else names[0], 1))
            elif node.level > 0:
                up = node.level - 1
                if up == depth:  # relative to the package root
                    target = node.module.split(".")[0] if node.module else node.names[0].name
                    out.append((target, 1))
            elif node.module:
                out.append((node.module.split(".")[0], 0))
        elif isinstance(node, ast.Import):
            out.extend((a.name.split(".")[0], 0) for a in node.names)
    return out


def test_imports_go_one_way() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        mod = _module_of(path)
        if mod not in RANK:
            continue
        for target, internal in _imports(path):
            backwards = target in RANK and (RANK[target] > RANK[mod] or {mod, target} == {"ledger", "reports"})
            if internal and target != mod and backwards:
                bad.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert bad == []


def test_cli_imports_no_heavy_library_at_module_level() -> None:
    tree = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    top: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.extend(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top.append(node.module.split(".")[0])
    assert HEAVY.isdisjoint(top)


def test_the_ledger_imports_no_rule_pipeline_or_report() -> None:
    """Issue 14: the ledger reads contexts and applies decisions; it never judges (rules),
    never calls back into the pipeline, never formats a report."""
    bad = [
        f"{path.relative_to(PACKAGE)} imports {target}"
        for path in (PACKAGE / "ledger").rglob("*.py")
        for target, internal in _imports(path)
        if internal and target in {"rules", "pipeline", "reports", "watch", "demo", "cli", "read", "validate"}
    ]
    assert bad == []


# outside ledger/, sqlalchemy serves only to parse a URL and name its errors
SQL_FREE_IMPORTS = {"sqlalchemy.engine", "sqlalchemy.exc"}
SQL_CALLS = {"execute", "exec_driver_sql", "scalar", "scalars", "scalar_one", "begin", "engine"}


def test_nothing_outside_the_ledger_executes_sql() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        if _module_of(path) == "ledger":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("sqlalchemy"):
                if node.module not in SQL_FREE_IMPORTS:
                    bad.append(f"{path.relative_to(PACKAGE)} imports {node.module}")
            elif isinstance(node, ast.Import):
                bad += [
                    f"{path.relative_to(PACKAGE)} imports {a.name}"
                    for a in node.names
                    if a.name.startswith("sqlalchemy")
                ]
            elif isinstance(node, ast.Attribute) and node.attr in SQL_CALLS:
                bad.append(f"{path.relative_to(PACKAGE)}:{node.lineno} uses .{node.attr}")
    assert bad == []
