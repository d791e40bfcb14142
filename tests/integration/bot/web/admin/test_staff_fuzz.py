"""Every staff page, fed odd addresses and forms: never a 5xx (issue 14, L-2 and M-5).

The routes come from the app itself, so a page added later is fuzzed too. An administrator
and a link worker, each signed in with a valid CSRF token, send every route odd ids
(20 digits, negative, words, control characters) and forms whose fields are the names the
pages really use, filled with odd values (NUL and other control characters, 20-digit
numbers, the year 99999, long text). A 4xx is a fine answer; a 5xx is a bug. On both
databases: PostgreSQL refuses a NUL and 32-bit overflows that SQLite lets through.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import App
from bot.web.app import create_web_app
from tests.integration.bot.web.admin.test_pages_on_postgres import _a_week_of_work
from tests.staff_client import StaffClient, signed_in

pytestmark = pytest.mark.db_contract

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
_SKIPPED = {"/sign-out"}  # it ends the session the fuzzing runs in
_FIELD = re.compile(r'name="([^"]+)"')


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def params(self) -> list[str]:
        return [m.group(1) for m in _PARAM.finditer(self.path)]

    def fill(self, values: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: quote(values[m.group(1)], safe=""), self.path)


def staff_routes(app: App) -> list[Route]:
    """Every staff page and form the app serves (webhooks have their own fuzz test)."""
    found: list[Any] = []
    for route in create_web_app(app).routes:  # an included router can be one entry
        found.extend(getattr(getattr(route, "original_router", None), "routes", [route]))
    return sorted(
        {
            Route(method, route.path)
            for route in found
            if isinstance(route, APIRoute)
            and not route.path.startswith(("/webhooks", "/healthz"))
            and route.path not in _SKIPPED
            for method in route.methods & {"GET", "POST"}
        },
        key=lambda r: (r.path, r.method),
    )


@dataclass
class Staff:
    admin: StaffClient
    worker: StaffClient
    routes: list[Route]
    ids: dict[str, int]
    fields: list[str]


@pytest.fixture
async def staff(app: App) -> AsyncIterator[Staff]:
    ids = await _a_week_of_work(app)
    routes = staff_routes(app)
    async with (
        signed_in(app, "alex@example.org") as admin,
        signed_in(app, "sam@example.org") as sam,
    ):
        names: set[str] = set()
        for route in routes:  # the field names the pages really post
            if route.method == "GET":
                page = await admin.get(route.fill(_real(ids)))
                names |= set(_FIELD.findall(page.text))
        names.discard("csrf_token")
        yield Staff(admin, sam, routes, ids, sorted(names))


def _real(ids: dict[str, int]) -> dict[str, str]:
    return {**{k: str(v) for k, v in ids.items()}, "window_id": "1", "kind": "meeting",
            "batch_id": "1", "session_id": "1", "slug": "name", "line_id": "1"}  # fmt: skip


_ODD = [
    "",
    "0",
    "-1",
    "9" * 20,
    "-" + "9" * 20,
    "99999",
    "1e308",
    "nan",
    "\x00",
    "a\x00b",
    "\x1b[2J",
    "\x7f",
    "line\nbreak",
    "tab\there",
    "\ud7ff",
    "x" * 5000,
    "yes",
    "sms",
    "1",
]
_values = st.one_of(
    st.sampled_from(_ODD),
    st.text(max_size=20),
    st.integers(-(10**25), 10**25).map(str),
)
_path_values = st.one_of(
    st.sampled_from(["1", "2", "0", "-1", "9" * 20, "2147483648", "abc", "a\x00", "\x1b", "%"]),
    st.integers(-(10**25), 10**25).map(str),
    st.text(min_size=1, max_size=12).filter(lambda s: s not in (".", "..")),
)


def _fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


async def _send(client: StaffClient, route: Route, path: str, form: dict[str, str]) -> Any:
    if route.method == "GET":
        return await client.get(path, params=form)
    return await client.post(path, form)


@pytest.mark.parametrize("who", ["admin", "worker"])
@_fuzz(120)
@given(data=st.data())
async def test_no_staff_route_answers_5xx_to_odd_ids_and_fields(
    staff: Staff, who: str, data: st.DataObject
) -> None:
    client = staff.admin if who == "admin" else staff.worker
    route = data.draw(st.sampled_from(staff.routes), label="route")
    real = _real(staff.ids)
    values = {
        name: data.draw(st.one_of(st.just(real.get(name, "1")), _path_values), label=name)
        for name in route.params
    }
    form = data.draw(
        st.dictionaries(st.sampled_from(staff.fields), _values, max_size=8), label="form"
    )
    path = route.fill(values)
    response = await _send(client, route, path, form)
    assert response.status_code < 500, (route, values, form, response.status_code)


@pytest.mark.parametrize("who", ["admin", "worker"])
async def test_an_id_no_column_can_hold_is_not_found_on_every_route(staff: Staff, who: str) -> None:
    """L-2: 20-digit ids were an OverflowError 500; past 32 bits was a 500 on PostgreSQL."""
    client = staff.admin if who == "admin" else staff.worker
    for route in staff.routes:
        numbered = [p for p in route.params if p not in ("kind", "batch_id")]
        if not numbered:
            continue
        for huge in ("9" * 20, "2147483648", "-" + "9" * 20):
            path = route.fill({**_real(staff.ids), **dict.fromkeys(numbered, huge)})
            response = await _send(client, route, path, {})
            assert response.status_code == 404, (route, huge, response.status_code)


async def test_a_control_character_in_any_form_is_400_and_changes_nothing(staff: Staff) -> None:
    """M-5 at the pages: a NUL (or an escape, or a line break in a one-line box) in any
    field of any form is refused with a sentence, before the form is read."""
    real = _real(staff.ids)
    for route in staff.routes:
        if route.method != "POST":
            continue
        for odd in ("Ana\x00", "\x1b[2J", "two\nlines"):
            response = await staff.admin.post(route.fill(real), {"title": odd, "email": odd})
            assert response.status_code == 400, (route, odd, response.status_code)
            assert "cannot be typed" in response.text


async def test_line_breaks_are_fine_in_a_box_of_several_lines(staff: Staff) -> None:
    real = _real(staff.ids)
    response = await staff.admin.post(
        Route("POST", "/engagements/{engagement_id}/cancel").fill(real),
        {"reason": "The venue flooded.\r\nWe will find another date."},
    )
    assert response.status_code in (200, 303), response.status_code


@pytest.mark.parametrize(
    "day",
    [
        {"starts_on-day": "9" * 20, "starts_on-month": "1", "starts_on-year": "2027"},
        {"starts_on-day": "1", "starts_on-month": "1", "starts_on-year": "99999"},
        {"starts_on-day": "1", "starts_on-month": "9" * 20, "starts_on-year": "2027"},
    ],
)
async def test_a_date_out_of_range_is_400_with_the_form_again(
    staff: Staff, day: dict[str, str]
) -> None:
    """L-2: a 20-digit day on a new engagement was an unhandled OverflowError."""
    form = {"title": "Panel", "kind": "meeting", "start_time": "10:00", "end_time": "12:00"}
    response = await staff.worker.post("/engagements/new", {**form, **day})
    assert response.status_code == 400
    assert "real date" in response.text
