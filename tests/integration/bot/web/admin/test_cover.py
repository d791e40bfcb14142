"""Cover while someone is away: setting it (with plain checks), seeing who is away, and the
covering colleague seeing the absent colleague's work."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.bootstrap import App
from store.enums import Role
from store.models import AuditEvent, Staff
from tests.builders import add_expert
from tests.integration.bot.web.admin.test_replies import text_in
from tests.staff_client import add_account, signed_in


async def staff_team(app: App) -> dict[str, int]:
    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
        jo = await add_account(app, session, name="Jo Brown", email="jo@example.org")
        kim = await add_account(app, session, name="Kim Lee", email="kim@example.org")
        alex = await add_account(
            app, session, name="Alex Admin", email="alex@example.org", role=Role.ADMIN
        )
        await add_expert(app, session, ref="EX-1")
        return {"sam": sam.id, "jo": jo.id, "kim": kim.id, "alex": alex.id}


def dates(first: tuple[int, int, int] | None, last: tuple[int, int, int] | None) -> dict[str, str]:
    form: dict[str, str] = {}
    for name, value in (("away_from", first), ("away_until", last)):
        for part, number in zip(("day", "month", "year"), value or ("", "", ""), strict=True):
            form[f"{name}-{part}"] = str(number)
    return form


async def staff(app: App, staff_id: int) -> Staff:
    async with app.sessions() as session:
        found = await session.get(Staff, staff_id)
    assert found is not None
    return found


async def test_setting_my_cover_shows_on_the_page_and_in_the_team_table(app: App) -> None:
    ids = await staff_team(app)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get("/cover")
        assert page.status_code == 200 and "No one is named yet" in page.text
        saved = await sam.post(
            "/cover", {"cover": ids["jo"], **dates((19, 1, 2026), (23, 1, 2026))}
        )
        assert (saved.status_code, saved.headers["location"]) == (303, "/cover")
        page = await sam.get("/cover")
    assert (
        "Saved. The cover for your work is set from 19 January 2026 to 23 January 2026."
        in page.text
    )
    assert "Jo Brown" in page.text  # named on the page, never in the cookie's banner
    assert "Current and upcoming time away" in page.text
    assert "19 January 2026" in page.text and "23 January 2026" in page.text
    me = await staff(app, ids["sam"])
    assert (me.cover_id, me.away_from, me.away_until) == (
        ids["jo"],
        date(2026, 1, 19),
        date(2026, 1, 23),
    )
    async with app.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "staff.cover_set")
        )
    assert event is not None and event.actor == "sam@example.org"


async def test_bad_cover_forms_are_refused_field_by_field_and_nothing_is_saved(
    app: App,
) -> None:
    ids = await staff_team(app)
    cases = [
        ({**dates((19, 1, 2026), (23, 1, 2026))}, "cover", "Choose who will cover"),
        (
            {"cover": ids["sam"], **dates((19, 1, 2026), (23, 1, 2026))},
            "cover",
            "cannot cover for themselves",
        ),
        ({"cover": "999", **dates(None, None)}, "cover", "Choose a colleague from the list"),
        (
            {"cover": ids["jo"], **dates((31, 2, 2026), (23, 3, 2026))},
            "away_from",
            "The first day away must be a real date",
        ),
        (
            {"cover": ids["jo"], **dates((19, 1, 2026), None), "away_until-day": "23"},
            "away_until",
            "The last day away must include a month and year",
        ),
        (
            {"cover": ids["jo"], **dates((19, 1, 2026), None)},
            "away_until",
            "Enter the last day away",
        ),
        (
            {"cover": ids["jo"], **dates((23, 1, 2026), (19, 1, 2026))},
            "away_until",
            "same as or after the first",
        ),
        (
            {"cover": ids["jo"], **dates((1, 1, 2026), (5, 1, 2026))},
            "away_until",
            "today or later",
        ),
    ]
    async with signed_in(app, "sam@example.org") as sam:
        for form, field, message in cases:
            response = await sam.post("/cover", form)
            assert response.status_code == 400, (form, response.text)
            assert message in response.text, message
            assert f'href="#{field}"' in response.text
    me = await staff(app, ids["sam"])
    assert (me.cover_id, me.away_from, me.away_until) == (None, None, None)


async def test_a_cover_who_is_away_at_the_same_time_is_refused(app: App) -> None:
    ids = await staff_team(app)
    async with signed_in(app, "jo@example.org") as jo:
        await jo.post("/cover", {"cover": ids["kim"], **dates((20, 1, 2026), (21, 1, 2026))})
    async with signed_in(app, "sam@example.org") as sam:
        response = await sam.post(
            "/cover", {"cover": ids["jo"], **dates((19, 1, 2026), (23, 1, 2026))}
        )
    assert response.status_code == 400 and "Jo Brown is also away then" in response.text
    assert (await staff(app, ids["sam"])).cover_id is None


async def test_clearing_takes_the_arrangement_away(app: App) -> None:
    ids = await staff_team(app)
    async with signed_in(app, "sam@example.org") as sam:
        await sam.post("/cover", {"cover": ids["jo"], **dates((19, 1, 2026), (23, 1, 2026))})
        cleared = await sam.post("/cover", {"clear": "1"})
        assert cleared.status_code == 303
    me = await staff(app, ids["sam"])
    assert (me.cover_id, me.away_from, me.away_until) == (None, None, None)


async def test_only_an_administrator_sets_someone_elses_cover(app: App) -> None:
    ids = await staff_team(app)
    form = {"cover": ids["kim"], **dates((19, 1, 2026), (23, 1, 2026))}
    async with signed_in(app, "jo@example.org") as jo:
        assert (await jo.get(f"/cover/{ids['sam']}")).status_code == 404
        assert (await jo.post(f"/cover/{ids['sam']}", form)).status_code == 404
        assert (await jo.get("/cover/99999999999999999999999")).status_code == 404
        assert (await jo.get(f"/cover/{ids['jo']}")).status_code == 200  # their own
    assert (await staff(app, ids["sam"])).cover_id is None
    async with signed_in(app, "alex@example.org") as alex:
        overview = await alex.get("/cover")
        assert f'href="/cover/{ids["sam"]}"' in overview.text
        page = await alex.get(f"/cover/{ids['sam']}")
        assert page.status_code == 200 and "Cover for Sam Taylor" in page.text
        saved = await alex.post(f"/cover/{ids['sam']}", form)
        assert saved.status_code == 303
        bad = await alex.post(f"/cover/{ids['sam']}", {**form, "cover": ""})
        assert bad.status_code == 400 and "Choose who will cover" in bad.text
        assert (await alex.get("/cover/99999")).status_code == 404
    sam = await staff(app, ids["sam"])
    assert (sam.cover_id, sam.away_from) == (ids["kim"], date(2026, 1, 19))


async def test_while_sam_is_away_jo_sees_sams_replies_and_tasks(app: App) -> None:
    """Sam sets Jo as cover from today: Jo's lists show Sam's expert, and stop showing it
    once Sam is back."""
    ids = await staff_team(app)
    reply_id = await text_in(app, "call me")
    async with signed_in(app, "jo@example.org") as jo:
        assert f"/replies/{reply_id}" not in (await jo.get("/replies")).text
    async with signed_in(app, "sam@example.org") as sam:
        saved = await sam.post(
            "/cover", {"cover": ids["jo"], **dates((12, 1, 2026), (13, 1, 2026))}
        )
        assert saved.status_code == 303
    async with signed_in(app, "jo@example.org") as jo:
        assert f"/replies/{reply_id}" in (await jo.get("/replies")).text
        assert "Call back: they asked for a call" in (await jo.get("/tasks")).text
        cover_page = await jo.get("/cover")
        assert "You are covering for Sam Taylor today" in cover_page.text
        assert "Away now" in cover_page.text
    app.clock.set(app.clock.now().replace(day=14))  # type: ignore[attr-defined]
    async with signed_in(app, "jo@example.org") as jo:
        assert f"/replies/{reply_id}" not in (await jo.get("/replies")).text
        assert (await jo.get(f"/replies/{reply_id}")).status_code == 404
