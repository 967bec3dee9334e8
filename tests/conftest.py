"""Shared fixtures: settings in tmp_path, ledgers, and fill_template (added by their modules)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import LIST_HEADER_02, band, default_criteria, valid_row

from danhgia_batch.domain import Framework
from danhgia_batch.settings import Settings, load_settings


@pytest.fixture(autouse=True, scope="session")
def _verify_batch_memo() -> Any:
    """Every context a batch reads from its memo is compared with the ledger's own answer
    (``_BatchMemo.VERIFY``): each test that records in-process proves the memo exact."""
    from danhgia_batch.ledger.recording import _BatchMemo

    _BatchMemo.VERIFY = True
    yield
    _BatchMemo.VERIFY = False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Shipped defaults with a work dir in ``tmp_path`` (no danhgia.toml, no environment)."""
    work = tmp_path / "work"
    work.mkdir()
    return load_settings(cwd=work, env={})


# ---- fill_template (templates engineer) -------------------------------------------------

_HEADER_02 = LIST_HEADER_02
_HEADER_01 = {
    **_HEADER_02,
    "person_code": "PNV002",
    "full_name": "Lê Thị Mai",
    "birth_date": date(1988, 5, 12),
    "position_title": "Chuyên viên",
    "position_code": "CONG_CHUC",
    "category": "CBCC",
    "group": "CBCC",
    "self_date": date(2022, 1, 20),
}


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Framework | str | None], Path]:
    """``template_dir(framework)`` → folder of templates generated once per session from the
    shipped defaults (``framework``: None = default, an id, or a Framework object)."""
    from danhgia_batch.templates import generate_templates

    base = load_settings(cwd=tmp_path_factory.mktemp("template_settings"), env={})
    cache: dict[object, Path] = {}

    def get(framework: Framework | str | None = None) -> Path:
        key = framework.key if isinstance(framework, Framework) else framework
        if key not in cache:
            out = tmp_path_factory.mktemp("templates")
            if isinstance(framework, Framework):
                dom = dataclasses.replace(base.domain, default_framework=framework.id)
                custom = dataclasses.replace(base, frameworks={framework.key: framework}, domain=dom)
                generate_templates(custom, out)
            else:
                generate_templates(base, out, framework)
            cache[key] = out
        return cache[key]

    return get


@pytest.fixture
def fill_template(tmp_path: Path, template_dir: Callable[[Framework | str | None], Path]) -> Callable[..., Path]:
    """Fill a generated template with openpyxl, as a clerk's Excel would, and return the copy.

    ``fill_template(kind, rows=None, *, path=None, framework=None, **header)``:

    - ``"02"``: ``rows`` = list of row dicts (default one ``valid_row()``); ``header`` keys of
      ``layout.UNIT_LIST_HEADER`` override sensible defaults (``None`` leaves a cell empty).
    - ``"01"``: ``rows`` ignored; ``header`` keys of ``layout.INDIVIDUAL_HEADER`` plus
      ``criteria={code: (self, final)}`` (default 80% of each maximum) and ``results={...}``
      (default grades by band).
    - ``"00"``: ``units=[...]``, ``people=[...]`` (row dicts of UNIT_COLUMNS / PEOPLE_COLUMNS).
    """
    from danhgia_batch import layout
    from danhgia_batch.templates import fill_individual, fill_registry, fill_unit_list

    counter = itertools.count(1)

    def fill(
        kind: str,
        rows: list[dict[str, Any]] | None = None,
        *,
        path: Path | None = None,
        framework: Framework | str | None = None,
        **header: Any,
    ) -> Path:
        template = template_dir(framework) / layout.FILE_NAMES[kind]
        out = path or tmp_path / f"filled_{kind}_{next(counter)}.xlsx"
        if kind == layout.KIND_REGISTRY:
            return fill_registry(template, out, header.get("units", []), header.get("people", []))
        if kind == layout.KIND_UNIT_LIST:
            values = {k: v for k, v in {**_HEADER_02, **header}.items() if v is not None}
            return fill_unit_list(template, out, values, [valid_row()] if rows is None else rows)
        if kind == layout.KIND_INDIVIDUAL:
            fw = framework if isinstance(framework, Framework) else None
            if isinstance(framework, str):
                fw = max(
                    (f for f in load_settings(cwd=tmp_path, env={}).frameworks.values() if f.id == framework),
                    key=lambda f: (f.valid_from, f.version),
                )
            criteria = header.pop("criteria", None)
            if criteria is None:
                criteria = default_criteria(fw)
            results = header.pop("results", None)
            if results is None:
                self_total = sum((s for s, _ in criteria.values() if s is not None), Decimal(0))
                final_total = sum((f for _, f in criteria.values() if f is not None), Decimal(0))
                results = {"self_grade": band(self_total), "final_grade": band(final_total)}
            values = {k: v for k, v in {**_HEADER_01, **header}.items() if v is not None}
            return fill_individual(template, out, values, criteria, results)
        raise ValueError(f"unknown template kind {kind!r}")

    return fill


# ---- ledgers (ledger engineer) ------------------------------------------------------------


@pytest.fixture
def ledger(settings: Settings) -> Any:
    """A SQLite ledger in the work dir of ``settings`` (closed after the test)."""
    from danhgia_batch.ledger import open_ledger

    led = open_ledger(settings)
    yield led
    led.close()


@pytest.fixture
def pg_urls() -> Any:
    """``pg_urls()`` → a PostgreSQL URL whose search_path is a fresh schema; all dropped after.

    Needs ``DANHGIA_TEST_PG_URL``; skipped without it unless ``DANHGIA_REQUIRE_PG=1`` (CI),
    which makes the test fail instead.
    """
    import os
    import uuid
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    base = os.environ.get("DANHGIA_TEST_PG_URL", "")
    if not base:
        if os.environ.get("DANHGIA_REQUIRE_PG") == "1":
            pytest.fail("DANHGIA_REQUIRE_PG=1 nhưng chưa đặt DANHGIA_TEST_PG_URL")
        pytest.skip("PostgreSQL: đặt DANHGIA_TEST_PG_URL để chạy")
    admin = create_engine(base, pool_pre_ping=True)
    schemas: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"

    yield make
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_urls: Any) -> str:
    """A PostgreSQL URL in its own schema (see ``pg_urls``)."""
    return str(pg_urls())


@pytest.fixture
def pg_ledger(pg_url: str) -> Any:
    """A PostgreSQL ledger in its own schema (see ``pg_url``)."""
    from danhgia_batch.ledger import Ledger

    led = Ledger(pg_url)
    yield led
    led.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_ledger(request: pytest.FixtureRequest) -> Any:
    """The same test on SQLite and on PostgreSQL (``ledger`` and ``pg_ledger``)."""
    return request.getfixturevalue("ledger" if request.param == "sqlite" else "pg_ledger")
