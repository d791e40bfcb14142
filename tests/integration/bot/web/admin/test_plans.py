"""Contact-plan settings pages: every member of staff sees them; changes are checked like
the CLI's, refused with the message by the setting at fault, and recorded in the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from bot.bootstrap import App
from store.enums import Role
from store.models import AuditEvent, Engagement, PlanSetting
from tests.staff_client import add_account, signed_in

SAM, ADMIN = "sam@example.org", "ada@example.org"


async def _accounts(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Ada Admin", email=ADMIN, role=Role.ADMIN)


async def _settings(app: App) -> dict[str, dict[str, object]]:
    async with app.sessions() as session:
        return {row.kind: dict(row.overrides) for row in await session.scalars(select(PlanSetting))}


def _error_by(page: httpx.Response, field: str, words: str) -> None:
    assert page.status_code == 400, page.text
    found = re.search(rf'id="{field}-error"[^>]*>(.*?)</p>', page.text, re.S)
    assert found, f"no error next to {field}"
    assert words in found.group(1), found.group(1)
    assert f'href="#{field}"' in page.text


async def test_every_member_of_staff_sees_the_plans_with_their_defaults(app: App) -> None:
    await _accounts(app)
    for email in (SAM, ADMIN):
        async with signed_in(app, email) as person:
            page = await person.get("/plans")
            assert page.status_code == 200
            assert "Organisation default" in page.text and "Meeting" in page.text
            assert "7 days before" in page.text and "10:00" in page.text
            assert (await person.get("/plans/meeting")).status_code == 200
            assert (await person.get("/plans/no-such-kind")).status_code == 404
            assert (
                await person.post("/plans/no-such-kind", {"pre_brief_days": "9"})
            ).status_code == 404
    assert await _settings(app) == {}


async def test_a_link_worker_adds_a_kind_and_changes_it_and_it_is_audited(app: App) -> None:
    await _accounts(app)
    async with signed_in(app, SAM) as sam:
        added = await sam.post(
            "/plans/new", {"kind": " Focus  Group ", "pre_brief_days": "10", "send_at": "9:30"}
        )
        assert added.status_code == 303, added.text
        listing = await sam.get("/plans")
        assert "Focus group" in listing.text and "10 days before" in listing.text
        assert "09:30" in listing.text and "(own setting)" in listing.text
        assert 'href="/plans/focus%20group"' in listing.text

        changed = await sam.post(
            "/plans/focus%20group", {"pre_brief_days": "10", "reminder_days": "2", "send_at": ""}
        )
        assert changed.status_code == 303
        # The new kind can be chosen for an engagement at once.
        assert '<option value="focus group"' in (await sam.get("/engagements/new")).text
    assert await _settings(app) == {"focus group": {"pre_brief_days": 10, "reminder_days": 2}}
    async with app.sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "plan.kind_settings")
                .order_by(AuditEvent.id)
            )
        )
    assert [(e.actor, e.data["kind"], e.data["changed"]) for e in events] == [
        (SAM, "focus group", ["pre_brief_days", "send_at"]),
        (SAM, "focus group", ["reminder_days", "send_at"]),
    ]


async def test_contradictions_and_nonsense_are_refused_by_the_setting_and_not_saved(
    app: App,
) -> None:
    await _accounts(app)
    async with signed_in(app, ADMIN) as admin:
        assert (
            await admin.post("/plans/new", {"kind": "panel", "pre_brief_days": "5"})
        ).status_code == 303
        for data, field, words in (
            (
                {"pre_brief_days": "5", "reminder_days": "5"},
                "reminder_days",
                "come after the pre-brief",
            ),
            ({"pre_brief_days": "0"}, "pre_brief_days", "at least 1 day before"),
            ({"pre_brief_days": "five"}, "pre_brief_days", "whole number of days"),
            ({"pre_brief_days": "5", "check_in_days": "31"}, "check_in_days", "between 0 and 30"),
            (
                {"pre_brief_days": "5", "check_in_days": "4", "de_brief_days": "3"},
                "de_brief_days",
                "after the check-in",
            ),
            ({"pre_brief_days": "5", "send_at": "23:00"}, "send_at", "between 07:00 and 21:00"),
            ({"pre_brief_days": "5", "send_at": "teatime"}, "send_at", "24-hour clock"),
        ):
            _error_by(await admin.post("/plans/panel", data), field, words)
        refilled = await admin.post("/plans/panel", {"pre_brief_days": "5", "reminder_days": "5"})
        assert 'name="reminder_days" type="text" value="5"' in refilled.text

        _error_by(
            await admin.post("/plans/new", {"kind": ""}), "kind", "kind of engagement is empty"
        )
        _error_by(
            await admin.post("/plans/new", {"kind": "Panel"}), "kind", "already a kind called panel"
        )
        _error_by(await admin.post("/plans/new", {"kind": "meeting"}), "kind", "already a kind")
        _error_by(
            await admin.post("/plans/new", {"kind": "workshop", "reminder_days": "9"}),
            "reminder_days",
            "come after the pre-brief",
        )
    assert await _settings(app) == {"panel": {"pre_brief_days": 5}}


async def test_a_kind_setting_that_clashes_with_an_engagement_of_its_own_is_refused(
    app: App,
) -> None:
    """An engagement's own settings are checked with its kind's when they are saved."""
    from tests.builders import add_engagement

    await _accounts(app)
    async with app.sessions.begin() as session:
        engagement = await add_engagement(
            app, session, starts_at=datetime(2026, 3, 3, 14, tzinfo=UTC)
        )
    async with signed_in(app, SAM) as sam:
        _error_by(
            await sam.post(f"/engagements/{engagement.id}/plan", {"reminder_days": "7"}),
            "reminder_days",
            "come after the pre-brief",
        )
        assert (
            await sam.post(f"/engagements/{engagement.id}/plan", {"reminder_days": "2"})
        ).status_code == 303
    async with app.sessions() as session:
        saved = await session.get(Engagement, engagement.id)
        assert saved is not None and saved.plan_overrides == {"reminder_days": 2}
