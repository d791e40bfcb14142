"""The page tests run on SQLite only. What they check is the pages: who may see what and
what a form does with bad input, the same on either database. Running them twice doubled
the suite's time for no new finding; PostgreSQL's part is walked once, page by page, in
test_pages_on_postgres.py, and the services under the pages run on both databases in
tests/bot/services/."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url
