"""The audit log page: who looked at or changed what and when, newest first, filtered and
paged, for administrators only, and never the words of a message or a contact detail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.bootstrap import App
from store import audit
from store.enums import Role
from tests.builders import add_expert
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"
WORKER = "sam@example.org"


async def _team(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Reid", email=ADMIN, role=Role.ADMIN)
        await add_account(app, session, name="Sam Taylor", email=WORKER)


def _rows(html: str) -> list[str]:
    body = html.split('<tbody class="govuk-table__body">', 1)[-1].split("</tbody>", 1)[0]
    return re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body, re.S)


async def test_link_workers_cannot_see_the_audit_log(app: App) -> None:
    await _team(app)
    async with signed_in(app, WORKER) as client:
        assert (await client.get("/admin/audit")).status_code == 404
        assert (await client.get("/admin/audit?who=sam")).status_code == 404


async def test_newest_first_in_uk_time_without_names_or_numbers(app: App) -> None:
    await _team(app)
    app.clock.set(datetime(2026, 6, 2, 9, 30, tzinfo=UTC))  # type: ignore[attr-defined]
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, preferred_name="Zephyrine", phone="07123 456789")
        audit.record(
            session,
            actor=WORKER,
            action="expert.viewed",
            entity="expert",
            entity_id=expert.id,
            at=app.clock.now() + timedelta(minutes=5),
        )
    async with signed_in(app, ADMIN) as client:
        page = await client.get("/admin/audit")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert "Their record was looked at" in rows[0] and WORKER in rows[0]
    assert "2 Jun 2026, 10:35" in rows[0]  # 09:35 UTC, in summer
    assert f'href="/experts/{expert.id}"' in rows[0]
    assert any("Added to Linkline" in row for row in rows[1:])
    assert "Zephyrine" not in page.text
    assert "456789" not in page.text and "7123" not in page.text


async def test_filters_narrow_the_log(app: App) -> None:
    await _team(app)
    async with app.sessions.begin() as session:
        for day, actor, action, entity, entity_id in (
            (1, "jo@example.org", "expert.viewed", "expert", 7),
            (2, "jo@example.org", "task.done", "task", 8),
            (3, "kim@example.org", "expert.viewed", "expert", 9),
        ):
            audit.record(
                session,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                at=datetime(2026, 3, day, 12, 0, tzinfo=UTC),
            )
    async with signed_in(app, ADMIN) as client:
        by_who = _rows((await client.get("/admin/audit?who=JO@")).text)
        assert len(by_who) == 2 and all("jo@example.org" in r for r in by_who)
        by_action = _rows((await client.get("/admin/audit?action=expert.viewed")).text)
        assert len(by_action) == 2
        by_record = _rows((await client.get("/admin/audit?entity=expert&record_id=9")).text)
        assert len(by_record) == 1 and "kim@example.org" in by_record[0]
        dated = await client.get(
            "/admin/audit?from-day=2&from-month=3&from-year=2026&to-day=2&to-month=3&to-year=2026"
        )
        assert len(_rows(dated.text)) == 1 and "A task was finished" in dated.text
        nothing = await client.get("/admin/audit?who=nobody")
        assert "Nothing matches these filters" in nothing.text


async def test_fifty_to_a_page_with_links_that_keep_the_filters(app: App) -> None:
    await _team(app)
    start = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    async with app.sessions.begin() as session:
        for n in range(120):
            audit.record(
                session,
                actor="jo@example.org",
                action="task.done",
                entity="task",
                entity_id=n,
                at=start + timedelta(minutes=n),
            )
    async with signed_in(app, ADMIN) as client:
        first = await client.get("/admin/audit?who=jo")
        assert len(_rows(first.text)) == 50 and "page 1 of 3" in first.text
        assert 'href="/tasks/119"' in first.text  # the newest first
        link = re.search(r'href="(/admin/audit\?[^"]*page=2)"', first.text)
        assert link is not None and "who=jo" in link.group(1)
        last = await client.get("/admin/audit?who=jo&page=3")
        assert len(_rows(last.text)) == 20 and 'href="/tasks/0"' in last.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("record_id=abc", "record_id", "Enter the record number in digits"),
        ("action=DROP%20TABLE", "action", "Choose an action from the list"),
        ("entity=%3Cscript%3E", "entity", "Choose a type of record from the list"),
        ("from-day=1&from-year=2026", "date_from", "Enter a full date"),
        ("to-day=31&to-month=2&to-year=2026", "date_to", "Enter a real date"),
        (
            "from-day=2&from-month=3&from-year=2026&to-day=1&to-month=3&to-year=2026",
            "date_to",
            "The last day must be the same as or after the first day",
        ),
        ("who=" + "x" * 121, "who", "Enter at most 120 characters"),
    ],
)
async def test_bad_filters_are_explained_next_to_the_field(
    app: App, query: str, field: str, message: str
) -> None:
    await _team(app)
    async with signed_in(app, ADMIN) as client:
        page = await client.get("/admin/audit?" + query)
    assert page.status_code == 400
    assert f'href="#{field}"' in page.text  # the error summary links to the field
    assert f'id="{field}"' in page.text
    assert message in page.text
