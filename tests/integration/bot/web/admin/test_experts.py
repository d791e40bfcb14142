"""The experts pages, as link workers and administrators use them: the list, adding
someone, their profile and every change form, each only for the people who may see them."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from store.enums import ChangeStatus, Channel, ExpertStatus, PastoralLevel, Role, TaskKind
from store.models import (
    AuditEvent,
    ChannelConsent,
    ContactChange,
    ContactPoint,
    ContactWindow,
    Expert,
    Staff,
    Task,
    TelegramLink,
)
from tests.builders import add_expert
from tests.integration.bot.web.admin.expert_adding import SECTIONS, fill_in, new_expert
from tests.staff_client import add_account, cookie_contents, signed_in

SAM, JO, ALI = "sam@example.org", "jo@example.org", "ali@example.org"
ANA_PHONE = "+447123456789"


@dataclass(frozen=True)
class World:
    ana: int  # Sam's expert
    bo: int  # Jo's expert
    sam: int
    jo: int
    ali: int  # an administrator


async def _world(app: App) -> World:
    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
        jo = await add_account(app, session, name="Jo Reid", email=JO)
        ali = await add_account(app, session, name="Ali Khan", email=ALI, role=Role.ADMIN)
        ana = await add_expert(app, session, ref="EX-1")
        bo = await add_expert(
            app,
            session,
            ref="EX-2",
            preferred_name="Bo",
            phone="07123 456701",
            link_worker=JO,
            consent_confirmed_by=JO,
        )
        return World(ana.id, bo.id, sam.id, jo.id, ali.id)


async def _jo_covers_sam(app: App, world: World) -> None:
    async with app.sessions.begin() as session:
        sam = await session.get(Staff, world.sam)
        assert sam is not None
        sam.cover_id = world.jo
        sam.away_from, sam.away_until = date(2026, 1, 10), date(2026, 1, 20)


async def _expert(app: App, expert_id: int) -> Expert:
    async with app.sessions() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        return expert


async def _point(app: App, expert_id: int, channel: Channel) -> ContactPoint | None:
    async with app.sessions() as session:
        return await session.scalar(
            select(ContactPoint).where(
                ContactPoint.expert_id == expert_id, ContactPoint.channel == channel
            )
        )


async def _count(app: App, model: Any) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _consents(app: App, expert_id: int) -> dict[Channel, bool]:
    """Channel -> whether full details may be sent, for each channel they agreed to."""
    async with app.sessions() as session:
        rows = await session.scalars(
            select(ChannelConsent).where(ChannelConsent.expert_id == expert_id)
        )
        return {c.channel: c.details_safe for c in rows if c.allowed}


def _text(page: httpx.Response) -> str:
    """The page's words, without tags or repeated spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def assert_error_by(page: httpx.Response, field: str, says: str) -> None:
    """400, the message right by the field, and the summary linking to it."""
    assert page.status_code == 400, page.text[-2000:]
    found = re.search(rf'id="{re.escape(field)}(?:-date)?-error"[^>]*>(.*?)</p>', page.text, re.S)
    assert found, f"no error message by {field}"
    message = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
    assert says in message, message
    assert f'href="#{field}"' in page.text


def _pages(expert_id: int) -> list[str]:
    return [f"/experts/{expert_id}"] + [
        f"/experts/{expert_id}/{name}"
        for name in (
            "edit",
            "consent",
            "channels",
            "windows",
            "pastoral",
            "pause",
            "telegram-link",
            "contact",
        )
    ]


def _forms(expert_id: int, window_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every form for one expert, with input that would be saved if it were allowed."""
    base = f"/experts/{expert_id}"
    return [
        (f"{base}/safe-contact-confirmed", {}),
        (f"{base}/edit", {"preferred_name": "Changed", "language": "en"}),
        (f"{base}/consent", {"allow": ["sms"], "details": ["sms"]}),
        (f"{base}/channels", {"preferred_channel": "sms"}),
        (
            f"{base}/windows",
            {"window_days": ["mon"], "window_from": "09:00", "window_until": "12:00"},
        ),
        (f"{base}/windows/{window_id}/remove", {}),
        (f"{base}/pastoral", {"level": "monthly", "bank_holidays": "yes"}),
        (f"{base}/pause", {"action": "pause", "pause_kind": "contact"}),
        (f"{base}/telegram-link", {}),
        (f"{base}/contact", {"phone": "07123 456702", "email": "new@example.net"}),
    ]


async def _add_window(app: App, expert_id: int) -> int:
    async with app.sessions.begin() as session:
        window = ContactWindow(expert_id=expert_id, days="sat,sun", start=time(10), end=time(12))
        session.add(window)
        await session.flush()
        return window.id


# The list


async def test_the_list_shows_a_link_worker_their_own_experts_and_an_admin_everyone(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await sam.get("/experts")
        assert page.status_code == 200
        words = _text(page)
        assert "Your experts" in words and "EX-1" in words and "Ana" in words
        assert "EX-2" not in words and "Bo" not in words
        assert "Add an expert" in words and "Check again" in words  # never gone through
        assert f'href="/experts/{world.ana}"' in page.text
    async with signed_in(app, ALI) as ali:
        words = _text(await ali.get("/experts"))
        assert "EX-1" in words and "EX-2" in words and "Jo Reid" in words


async def test_the_list_says_who_is_paused_or_held(app: App) -> None:
    world = await _world(app)
    async with app.sessions.begin() as session:
        ana = await session.get(Expert, world.ana)
        bo = await session.get(Expert, world.bo)
        assert ana is not None and bo is not None
        ana.paused_until = date(2026, 3, 1)
        bo.held_since = app.clock.now()
    async with signed_in(app, ALI) as ali:
        words = _text(await ali.get("/experts"))
    assert "Paused until 1 March 2026" in words
    assert "Held after a worrying reply" in words


# Adding someone


async def test_adding_an_expert_saves_what_they_agreed_and_counts_as_going_through_it(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        form = await sam.get("/experts/new/worker")
        assert form.status_code == 200
        assert f'<option value="{world.sam}" selected>' in form.text
        assert f'value="{world.jo}"' not in form.text  # not someone Sam covers
        done = await fill_in(sam, new_expert(world.sam))
        assert done.status_code == 303, _text(done)
        profile = await sam.get(done.headers["location"])
    words = _text(profile)
    assert "Added EX-9." in words  # by reference: a banner travels in the cookie
    assert "Please go through their safe-contact details" not in words
    async with app.sessions() as session:
        cat = await session.scalar(select(Expert).where(Expert.ref == "EX-9"))
        assert cat is not None
        windows = list(
            await session.scalars(select(ContactWindow).where(ContactWindow.expert_id == cat.id))
        )
    assert cat.preferred_name == "Cat" and cat.link_worker_id == world.sam
    assert cat.channel_order() == [Channel.SMS, Channel.EMAIL]
    assert cat.access_needs == ["large_print"] and cat.discreet
    assert cat.pastoral_level is PastoralLevel.MONTHLY
    assert cat.safe_contact_confirmed_at == app.clock.now()
    assert cat.safe_contact_confirmed_by_id == world.sam
    # Consent asked once: each way chosen is agreed; full details only where ticked.
    assert await _consents(app, cat.id) == {Channel.SMS: True, Channel.EMAIL: False}
    assert [(w.days, f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in windows] == [
        ("mon,tue,wed,thu,fri", "09:00", "17:30")
    ]
    phone = await _point(app, cat.id, Channel.SMS)
    assert phone is not None and phone.value == "+447123456702" and phone.usable


async def test_a_cover_worker_adds_an_expert_for_the_colleague_they_cover(app: App) -> None:
    world = await _world(app)
    await _jo_covers_sam(app, world)
    async with signed_in(app, JO) as jo:
        done = await fill_in(jo, new_expert(world.sam))
        assert done.status_code == 303
    async with app.sessions() as session:
        assert await session.scalar(select(Expert.link_worker_id).where(Expert.ref == "EX-9")) == (
            world.sam
        )


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"preferred_name": ""}, "preferred_name", "Enter the name they would like us to use"),
        ({"phone": "12345"}, "phone", "Enter a phone number in the correct format"),
        ({"email": "cat at example"}, "email", "Enter an email address in the correct format"),
        ({"postal_address": "Just one line"}, "postal_address", "at least two lines"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Enter a time zone like Europe/London"),
        ({"preferred_channel": "pigeon"}, "preferred_channel", "Select how they would most"),
        ({"preferred_channel": ""}, "preferred_channel", "Select how they would most"),
        ({"fallback_channels": ["fax"]}, "fallback_channels", "from the list"),
        (
            {"fallback_channels": ["letter"], "postal_address": ""},
            "fallback_channels",
            "Enter their postal address in Contact details, or choose another way",
        ),
        (
            {"preferred_channel": "letter", "postal_address": ""},
            "preferred_channel",
            "Enter their postal address in Contact details",
        ),
        ({"details": ["sms", "letter"]}, "details", "Select only ways they agree to"),
        ({"window_from": "5pm", "window_until": "9am"}, "window_until", "must be after"),
        ({"window_from": "nine"}, "window_from", "Enter the time contact is safe from, like 9am"),
        ({"window_until": ""}, "window_until", "Enter the time contact is safe until"),
        ({"window_days": []}, "window_days", "Select the days when contact is safe"),
        ({"window_days": ["funday"]}, "window_days", "Select days from the list"),
        ({"pastoral_level": "daily"}, "pastoral_level", "Select how often to keep in touch"),
        ({"link_worker": "999"}, "link_worker", "Select their link worker from the list"),
        ({"access_needs": ["braille"]}, "access_needs", "Select access needs from the list"),
        ({"discreet": "perhaps"}, "discreet", "Select yes or no"),
    ],
)
async def test_a_mistake_in_any_section_is_shown_by_its_field_and_nothing_is_lost(
    app: App, overrides: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    before = await _count(app, Expert)
    async with signed_in(app, SAM) as sam:
        page = await fill_in(sam, new_expert(world.sam, **overrides))
        assert_error_by(page, field, says)
        if field not in SECTIONS["name"]:
            listed = _text(await sam.get("/experts/new"))
            assert "Name and reference Completed" in listed  # the earlier sections are kept
            assert 'value="Cat"' in (await sam.get("/experts/new/name")).text
    assert await _count(app, Expert) == before
    assert await _count(app, ContactPoint) == 4  # Ana's and Bo's only


@pytest.mark.parametrize(
    ("start", "end", "stored"),
    [
        ("9am", "5pm", ("09:00", "17:00")),
        ("9:30am", "9:30pm", ("09:30", "21:30")),
        ("09:00", "21:30", ("09:00", "21:30")),
        ("noon", "midnight", ("12:00", "00:00")),
        ("7.15 a.m.", "24:00", ("07:15", "00:00")),
        ("12am", "12pm", ("00:00", "12:00")),
        ("", "", ("00:00", "00:00")),  # at any time on those days (the box below)
    ],
)
async def test_safe_times_are_read_as_people_write_them(
    app: App, start: str, end: str, stored: tuple[str, str]
) -> None:
    world = await _world(app)
    all_day = {"window_all_day": "all-day"} if not start else {}
    form = new_expert(world.sam, window_from=start, window_until=end, **all_day)
    async with signed_in(app, SAM) as sam:
        check = await fill_in(sam, {**form, "window_days": ["sat", "sun"]})
        assert check.status_code == 303, _text(check)
    async with app.sessions() as session:
        (window,) = list(await session.scalars(select(ContactWindow)))
    assert (f"{window.start:%H:%M}", f"{window.end:%H:%M}") == stored


async def test_nothing_is_saved_until_the_answers_are_checked_and_confirmed(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        form = new_expert(world.sam)
        for slug in ("name", "contact", "channels"):
            fields = {k: v for k, v in form.items() if k in SECTIONS[slug]}
            assert (await sam.post(f"/experts/new/{slug}", fields)).status_code == 303
        assert await _count(app, Expert) == 2
        check = _text(await sam.get("/experts/new/check"))
        assert "Check your answers before adding them" in check
        assert "Name they would like us to use Cat" in check
        assert "Preferred way, agreed today Text message" in check
        assert "Full details may go by Text message" in check
        assert "Every day, 9am to 8pm (the usual hours)" in check  # times left optional
        assert "Link worker Sam Taylor" in check
        assert await _count(app, Expert) == 2
        # Changing an answer from the check page comes back to it.
        changed = await sam.post(
            "/experts/new/name",
            {**{k: form[k] for k in SECTIONS["name"]}, "ref": "EX-10", "from": "check"},
        )
        assert changed.headers["location"] == "/experts/new/check"
        added = await sam.post("/experts/new/check", {})
        assert added.status_code == 303
        assert await _count(app, Expert) == 3
        # The draft went with it: the next add starts empty.
        assert "Not yet started" in _text(await sam.get("/experts/new"))
        assert 'value="Cat"' not in (await sam.get("/experts/new/name")).text


async def test_the_check_page_waits_for_the_sections_that_are_not_optional(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        fields = {k: v for k, v in new_expert(world.sam).items() if k in SECTIONS["name"]}
        await sam.post("/experts/new/name", fields)
        waiting = await sam.get("/experts/new/check")
        assert waiting.status_code == 303 and waiting.headers["location"] == "/experts/new"
        refused = await sam.post("/experts/new/check", {})
        assert refused.status_code == 400
        assert "Complete contact details" in _text(refused)
        assert 'href="#section-contact"' in refused.text and 'id="section-contact"' in refused.text
    assert await _count(app, Expert) == 2


async def test_a_reference_taken_meanwhile_is_shown_by_its_field_when_confirming(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await fill_in(sam, new_expert(world.sam, ref="EX-1"))
        assert_error_by(page, "ref", "Another expert already has this reference")
        assert 'action="/experts/new/name"' in page.text
    assert await _count(app, Expert) == 2


async def test_the_draft_is_kept_on_the_server_encrypted_and_never_in_the_cookie(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        fields = {k: v for k, v in new_expert(world.sam).items() if k in SECTIONS["contact"]}
        assert (await sam.post("/experts/new/contact", fields)).status_code == 303
        assert "456702" not in str(cookie_contents(sam))
        assert "07123 456702" in (await sam.get("/experts/new/contact")).text
    async with app.engine.connect() as connection:
        stored = (await connection.exec_driver_sql("SELECT answers FROM expert_draft")).scalar()
    assert stored and "456702" not in stored and "cat@example" not in stored
    async with signed_in(app, SAM) as again:  # a new session, the same draft
        assert "07123 456702" in (await again.get("/experts/new/contact")).text
        thrown = await again.post("/experts/new/discard", {})
        assert thrown.status_code == 303
        assert "07123 456702" not in (await again.get("/experts/new/contact")).text


async def test_an_unknown_section_is_not_found(app: App) -> None:
    await _world(app)
    async with signed_in(app, SAM) as sam:
        assert (await sam.get("/experts/new/nothing")).status_code == 404
        assert (await sam.post("/experts/new/nothing", {"preferred_name": "X"})).status_code == 404


# Who may see which expert


async def test_every_expert_page_works_for_their_link_worker_and_for_an_admin(app: App) -> None:
    world = await _world(app)
    for email in (SAM, ALI):
        async with signed_in(app, email) as client:
            for path in ["/experts", "/experts/new", "/experts/changes", *_pages(world.ana)]:
                page = await client.get(path)
                assert page.status_code == 200, (email, path)
                assert "Ana" in page.text or path in ("/experts/new", "/experts/changes")


async def test_every_expert_page_is_not_found_for_another_link_worker_until_they_cover(
    app: App,
) -> None:
    world = await _world(app)
    window = await _add_window(app, world.ana)
    async with app.sessions.begin() as session:
        change = ContactChange(
            expert_id=world.ana,
            channel=Channel.SMS,
            value="+447123456702",
            requested_by_id=world.sam,
            requested_at=app.clock.now(),
        )
        session.add(change)
        await session.flush()
        change_id = change.id
    async with app.sessions() as session:
        audit_before = await session.scalar(select(func.max(AuditEvent.id))) or 0
    async with signed_in(app, JO) as jo:
        for path in _pages(world.ana):
            page = await jo.get(path)
            assert page.status_code == 404, path
            assert "Ana" not in page.text
        forms = [
            *_forms(world.ana, window),
            (f"/experts/changes/{change_id}/confirm", {}),
            (f"/experts/changes/{change_id}/reject", {}),
        ]
        for path, data in forms:
            assert (await jo.post(path, data)).status_code == 404, path
        assert "EX-1" not in _text(await jo.get("/experts/changes"))
    ana = await _expert(app, world.ana)
    assert (ana.preferred_name, ana.status, ana.pastoral_level) == (
        "Ana",
        ExpertStatus.ACTIVE,
        PastoralLevel.OFF,
    )
    assert await _count(app, ContactWindow) == 1
    assert await _count(app, TelegramLink) == 0
    async with app.sessions() as session:
        assert await session.scalar(select(ContactChange.status)) is ChangeStatus.PENDING
        jo_did = list(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.actor == JO, AuditEvent.id > audit_before
                )
            )
        )
    assert [a for a in jo_did if not a.startswith("staff.")] == []  # signing in, nothing else

    await _jo_covers_sam(app, world)
    async with signed_in(app, JO) as jo:
        for path in _pages(world.ana):
            assert (await jo.get(path)).status_code == 200, path
        assert "EX-1" in _text(await jo.get("/experts"))


async def test_a_link_worker_never_reaches_pages_of_an_expert_that_does_not_exist(
    app: App,
) -> None:
    await _world(app)
    async with signed_in(app, SAM) as sam:
        assert (await sam.get("/experts/999")).status_code == 404
        assert (await sam.post("/experts/changes/999/confirm", {})).status_code == 404


# The profile


async def test_the_profile_shows_each_section_and_records_who_looked(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await sam.get(f"/experts/{world.ana}")
    words = _text(page)
    for heading in (
        "About them",
        "Contact and consent",
        "When contact is safe",
        "Access needs",
        "Keeping in touch",
        "Status",
        "Telegram",
    ):
        assert heading in words
    assert "07123 456789" in words
    assert "Agreed: discreet messages only. Confirmed on 5 January 2026 by Sam Taylor" in words
    assert "Not set: we only contact them between 9am and 8pm" in words
    assert "Download everything we hold (subject access)" in words
    assert f'href="/experts/{world.ana}/export"' in page.text
    assert "Erase this expert" not in words  # administrators only
    for form in ("edit", "consent", "channels", "windows", "pastoral", "pause", "contact"):
        assert f'href="/experts/{world.ana}/{form}"' in page.text
    async with app.sessions() as session:
        viewed = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "expert.viewed", AuditEvent.actor == SAM)
        )
        assert viewed is not None and viewed.entity_id == world.ana
    async with signed_in(app, ALI) as ali:
        admin_page = await ali.get(f"/experts/{world.ana}")
    assert f'href="/experts/{world.ana}/erase"' in admin_page.text


async def test_the_safe_contact_prompt_comes_back_after_three_months_until_confirmed(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        done = await fill_in(sam, new_expert(world.sam))
        profile = done.headers["location"]
        prompt = "Please go through their safe-contact details with them again"
        assert prompt not in _text(await sam.get(profile))
        app.clock.advance(timedelta(days=91))  # type: ignore[attr-defined]
        await sam.sign_in(SAM)  # the session ended while the clock moved on
        assert prompt in _text(await sam.get(profile))
        listed = _text(await sam.get("/experts"))
        assert listed.count("Check again") >= 2  # Cat now, and Ana who never had it
        confirmed = await sam.post(f"{profile}/safe-contact-confirmed", {})
        assert confirmed.status_code == 303
        after = _text(await sam.get(profile))
    assert prompt not in after
    assert "went through their safe-contact details with them today" in after
    assert "Last gone through with them on 13 April 2026 by Sam Taylor" in after
    async with app.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "expert.safe_contact_confirmed")
        )
        assert event is not None and event.actor == SAM


async def test_a_shared_number_is_flagged_only_between_experts_you_may_see(app: App) -> None:
    """Across caseloads the flag would tell a link worker a stranger uses the service
    (L-3): only an administrator, who sees both, is told."""
    world = await _world(app)
    async with app.sessions.begin() as session:
        await add_expert(
            app,
            session,
            ref="EX-3",
            preferred_name="Dee",
            link_worker=JO,
            consent_confirmed_by=JO,
        )  # the same phone number as Ana, in Jo's caseload
    async with signed_in(app, SAM) as sam:
        listed = (await sam.get("/experts")).text
        ana_page = _text(await sam.get(f"/experts/{world.ana}"))
    assert not re.search(r"govuk-tag--orange\">\s*Shared contact", listed)
    assert "Another expert has the same" not in ana_page
    assert "EX-3" not in ana_page and "Dee" not in ana_page
    async with signed_in(app, ALI) as ali:
        ana_admin = await ali.get(f"/experts/{world.ana}")
        async with app.sessions() as session:
            dee_id = await session.scalar(select(Expert.id).where(Expert.ref == "EX-3"))
        dee_admin = await ali.get(f"/experts/{dee_id}")
        bo_admin = _text(await ali.get(f"/experts/{world.bo}"))
        assert re.search(r"govuk-tag--orange\">\s*Shared contact", (await ali.get("/experts")).text)
    assert f'href="/experts/{dee_id}">EX-3</a>' in ana_admin.text
    assert "Another expert has the same phone number or email:" in _text(dee_admin)
    assert f'href="/experts/{world.ana}">EX-1</a>.' in dee_admin.text
    assert "Another expert has the same" not in bo_admin

    async with app.sessions.begin() as session:
        await add_expert(app, session, ref="EX-4", preferred_name="Eve")  # Sam's, same number
    async with signed_in(app, SAM) as sam:
        assert re.search(r"govuk-tag--orange\">\s*Shared contact", (await sam.get("/experts")).text)
        ana_page = (await sam.get(f"/experts/{world.ana}")).text
    assert "Another expert has the same phone number or email:" in ana_page
    assert ">EX-4</a>." in ana_page
    assert "EX-3" not in ana_page


# The change forms


async def test_changing_their_details(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        form = await sam.get(f"/experts/{world.ana}/edit")
        assert 'value="Ana"' in form.text
        done = await sam.post(
            f"/experts/{world.ana}/edit",
            {
                "preferred_name": "Anna",
                "ref": "EX-10",
                "language": "gd",
                "time_zone": "Europe/Dublin",
                "discreet": "no",
                "access_needs": ["easy_read"],
            },
        )
        assert done.status_code == 303
    ana = await _expert(app, world.ana)
    assert (ana.preferred_name, ana.ref, ana.language, ana.time_zone, ana.discreet) == (
        "Anna",
        "EX-10",
        "gd",
        "Europe/Dublin",
        False,
    )
    assert ana.access_needs == ["easy_read"]


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"preferred_name": ""}, "preferred_name", "Enter the name they would like us to use"),
        ({"preferred_name": "x" * 81}, "preferred_name", "80 characters or fewer"),
        ({"ref": "EX-2"}, "ref", "Another expert already has this reference"),
        ({"ref": "x" * 41}, "ref", "40 characters or fewer"),
        ({"time_zone": "Nowhere/Land"}, "time_zone", "Enter a time zone like Europe/London"),
        ({"language": "e"}, "language", "Enter a short language code"),
        ({"access_needs": ["braille"]}, "access_needs", "from the list"),
    ],
)
async def test_a_mistake_in_their_details_saves_nothing(
    app: App, overrides: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    form = {"preferred_name": "Anna", "ref": "EX-1", "language": "en", "discreet": "no"}
    async with signed_in(app, SAM) as sam:
        page = await sam.post(f"/experts/{world.ana}/edit", {**form, **overrides})
    assert_error_by(page, field, says)
    ana = await _expert(app, world.ana)
    assert (ana.preferred_name, ana.discreet) == ("Ana", True)


async def test_recording_and_withdrawing_consent(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, JO) as jo:
        page = await jo.get(f"/experts/{world.bo}/consent")
        assert re.search(r'id="consent_sms"[^>]*checked', page.text)
        done = await jo.post(
            f"/experts/{world.bo}/consent", {"allow": ["sms", "phone"], "details": ["phone"]}
        )
        assert done.status_code == 303
    assert await _consents(app, world.bo) == {Channel.SMS: False, Channel.PHONE: True}
    async with signed_in(app, JO) as jo:
        await jo.post(f"/experts/{world.bo}/consent", {"allow": ["phone"], "details": ["phone"]})
    assert await _consents(app, world.bo) == {Channel.PHONE: True}


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"allow": ["sms", "email"]}, "consent_email", "no email address for them"),
        ({"allow": ["sms", "telegram"]}, "consent_telegram", "Telegram chat is not linked"),
        ({"allow": ["sms"], "details": ["letter"]}, "consent_letter", "tick that they agree"),
        ({"allow": ["sms", "pigeon"]}, "consent_sms", "Choose from the list only"),
    ],
)
async def test_consent_that_cannot_be_used_is_refused_and_nothing_changes(
    app: App, form: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await sam.post(f"/experts/{world.ana}/consent", form)
    assert_error_by(page, field, says)
    assert await _consents(app, world.ana) == {Channel.SMS: False}


async def test_choosing_the_ways_to_contact_them(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        await sam.post(f"/experts/{world.ana}/consent", {"allow": ["sms", "phone"]})
        done = await sam.post(
            f"/experts/{world.ana}/channels",
            {"preferred_channel": "phone", "fallback_channels": ["sms", "phone"]},
        )
        assert done.status_code == 303
    ana = await _expert(app, world.ana)
    assert ana.channel_order() == [Channel.PHONE, Channel.SMS]


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"preferred_channel": "pigeon"}, "preferred_channel", "Select how they would most"),
        (
            {"preferred_channel": "sms", "fallback_channels": ["fax"]},
            "fallback_channels",
            "from the list",
        ),
        (
            {"preferred_channel": "sms", "fallback_channels": ["email"]},
            "fallback_channels",
            "No consent is recorded for email",
        ),
        ({"preferred_channel": "letter"}, "preferred_channel", "No consent is recorded for letter"),
    ],
)
async def test_a_way_they_did_not_agree_to_cannot_be_chosen(
    app: App, form: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await sam.post(f"/experts/{world.ana}/channels", form)
    assert_error_by(page, field, says)
    assert (await _expert(app, world.ana)).channel_order() == [Channel.SMS]


async def test_a_way_with_no_details_to_use_cannot_be_chosen(app: App) -> None:
    world = await _world(app)
    async with app.sessions.begin() as session:
        email = ContactPoint(
            expert_id=world.ana,
            channel=Channel.EMAIL,
            value="ana@example.net",
            lookup_hash=app.cipher.blind_index("ana@example.net"),
            verified_at=app.clock.now(),
        )
        session.add(email)
        session.add(
            ChannelConsent(
                expert_id=world.ana,
                channel=Channel.EMAIL,
                allowed=True,
                confirmed_on=date(2026, 1, 5),
                confirmed_by_id=world.sam,
            )
        )
    async with app.sessions.begin() as session:
        bounced = await session.scalar(
            select(ContactPoint).where(
                ContactPoint.expert_id == world.ana, ContactPoint.channel == Channel.EMAIL
            )
        )
        assert bounced is not None
        bounced.opted_out_at = app.clock.now()
    async with signed_in(app, SAM) as sam:
        page = await sam.post(
            f"/experts/{world.ana}/channels",
            {"preferred_channel": "sms", "fallback_channels": ["email"]},
        )
    assert_error_by(page, "fallback_channels", "no email address for them that we can use")
    assert (await _expert(app, world.ana)).channel_order() == [Channel.SMS]


async def test_adding_and_removing_safe_times(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        done = await sam.post(
            f"/experts/{world.ana}/windows",
            {"window_days": ["sat", "sun"], "window_from": "10", "window_until": "24:00"},
        )
        assert done.status_code == 303
        await sam.post(
            f"/experts/{world.ana}/windows",
            {
                "window_days": ["mon", "tue", "wed", "thu", "fri"],
                "window_from": "9:30",
                "window_until": "17.00",
                "window_channel": "sms",
            },
        )
        page = _text(await sam.get(f"/experts/{world.ana}/windows"))
        assert "Saturday and Sunday, 10am to midnight" in page
        assert "Monday to Friday, 9:30am to 5pm (for text message only)" in page
        async with app.sessions() as session:
            first = await session.scalar(select(ContactWindow.id).order_by(ContactWindow.id))
        assert (await sam.post(f"/experts/{world.ana}/windows/{first}/remove", {})).status_code == (
            303
        )
        assert (await sam.post(f"/experts/{world.ana}/windows/{first}/remove", {})).status_code == (
            404
        )
    async with app.sessions() as session:
        left = list(await session.scalars(select(ContactWindow)))
    assert [(w.days, w.channel) for w in left] == [("mon,tue,wed,thu,fri", Channel.SMS)]


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"window_from": "17:00", "window_until": "09:00"}, "window_until", "must be after"),
        ({"window_from": "09:00", "window_until": "09:00"}, "window_until", "must be after"),
        ({"window_from": "25:00", "window_until": "26:00"}, "window_from", "like 9am or 09:00"),
        ({"window_from": "13pm", "window_until": "5pm"}, "window_from", "like 9am or 09:00"),
        ({"window_from": "", "window_until": "5pm"}, "window_from", "Enter the time contact is"),
        ({"window_days": []}, "window_days", "Select the days"),
        ({"window_days": ["funday"]}, "window_days", "from the list"),
        ({"window_channel": "pigeon"}, "window_channel", "Choose from the list"),
    ],
)
async def test_a_safe_time_that_makes_no_sense_is_refused(
    app: App, form: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    good = {"window_days": ["mon"], "window_from": "09:00", "window_until": "17:00"}
    async with signed_in(app, SAM) as sam:
        page = await sam.post(f"/experts/{world.ana}/windows", {**good, **form})
    assert_error_by(page, field, says)
    assert await _count(app, ContactWindow) == 0


async def test_keeping_in_touch_and_bank_holidays(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        done = await sam.post(
            f"/experts/{world.ana}/pastoral", {"level": "fortnightly", "bank_holidays": "yes"}
        )
        assert done.status_code == 303
        bad = await sam.post(f"/experts/{world.ana}/pastoral", {"level": "hourly"})
    ana = await _expert(app, world.ana)
    assert ana.pastoral_level is PastoralLevel.FORTNIGHTLY and ana.contact_on_bank_holidays
    assert_error_by(bad, "level", "Choose how often to keep in touch")
    assert_error_by(bad, "bank_holidays", "Choose yes or no")


async def test_pausing_until_a_date_or_until_they_get_in_touch_and_resuming(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        dated = await sam.post(
            f"/experts/{world.ana}/pause",
            {
                "action": "pause",
                "pause_kind": "date",
                "pause_until-day": "1",
                "pause_until-month": "3",
                "pause_until-year": "2026",
            },
        )
        assert dated.status_code == 303
        assert "paused until 1 March 2026" in _text(await sam.get(dated.headers["location"]))
        assert (await _expert(app, world.ana)).paused_until == date(2026, 3, 1)
        await sam.post(f"/experts/{world.ana}/pause", {"action": "pause", "pause_kind": "contact"})
        assert (await _expert(app, world.ana)).status is ExpertStatus.PAUSED
        resumed = await sam.post(f"/experts/{world.ana}/pause", {"action": "resume"})
        assert resumed.status_code == 303
    ana = await _expert(app, world.ana)
    assert (ana.status, ana.paused_until, ana.resumed_at) == (
        ExpertStatus.ACTIVE,
        None,
        app.clock.now(),
    )


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"pause_kind": ""}, "pause_kind", "Choose how long to pause for"),
        (
            {"pause_kind": "date", "pause_until-day": "31", "pause_until-month": "2"},
            "pause_until",
            "Enter the day contact may start again",
        ),
        (
            {
                "pause_kind": "date",
                "pause_until-day": "12",
                "pause_until-month": "1",
                "pause_until-year": "2026",
            },
            "pause_until",
            "The pause must end after today",
        ),
    ],
)
async def test_a_pause_that_makes_no_sense_is_refused(
    app: App, form: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await sam.post(f"/experts/{world.ana}/pause", {"action": "pause", **form})
        not_paused = await sam.post(f"/experts/{world.ana}/pause", {"action": "resume"})
    assert_error_by(page, field, says)
    assert_error_by(not_paused, "pause_kind", "They are not paused")
    ana = await _expert(app, world.ana)
    assert (ana.status, ana.paused_until) == (ExpertStatus.ACTIVE, None)


async def test_a_telegram_link_is_shown_once_and_only_its_hash_is_kept(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        intro = _text(await sam.get(f"/experts/{world.ana}/telegram-link"))
        assert "It works once, for 72 hours" in intro
        made = await sam.post(f"/experts/{world.ana}/telegram-link", {})
        assert made.status_code == 200
        code = re.search(r"/start ([A-Za-z0-9_-]{20,})", made.text)
        assert code is not None
        assert "shown only once" in _text(made) and "until 15 Jan 2026, 08:00" in _text(made)
        assert "No Telegram consent is recorded yet" in _text(made)
        again = await sam.get(f"/experts/{world.ana}/telegram-link")
        assert code.group(1) not in again.text
    async with app.sessions() as session:
        link = await session.scalar(select(TelegramLink))
        events = list(await session.scalars(select(AuditEvent.data)))
    assert link is not None and link.code_hash == app.cipher.blind_index(code.group(1))
    assert link.created_by_id == world.sam
    assert code.group(1) not in str(events)


# Contact changes: two people for a new phone number or address


async def test_a_new_number_needs_a_second_person_before_it_is_used(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        asked = await sam.post(f"/experts/{world.ana}/contact", {"phone": "07123 456700"})
        assert asked.status_code == 303
        profile = _text(await sam.get(asked.headers["location"]))
        assert "waits for a colleague to confirm it" in profile
        assert "Waiting for a second person to confirm" in profile
        assert "07123 456700" in profile
    point = await _point(app, world.ana, Channel.SMS)
    assert point is not None and point.value == ANA_PHONE  # what the dispatcher still uses

    async with app.sessions() as session:
        change_id = await session.scalar(select(ContactChange.id))
    async with signed_in(app, SAM) as sam:
        assert "Nothing is waiting for you" in _text(await sam.get("/experts/changes"))
        refused = await sam.post(f"/experts/changes/{change_id}/confirm", {})
        assert refused.status_code == 400
        assert "You asked for this change, so a colleague needs to confirm it" in _text(refused)
    assert (await _point(app, world.ana, Channel.SMS)).value == ANA_PHONE  # type: ignore[union-attr]

    async with signed_in(app, JO) as jo:  # not covering yet: Ana is not Jo's to see
        assert (await jo.post(f"/experts/changes/{change_id}/confirm", {})).status_code == 404
    await _jo_covers_sam(app, world)
    async with signed_in(app, JO) as jo:
        listed = await jo.get("/experts/changes")
        words = _text(listed)
        assert "EX-1: Ana" in words and "Phone number" in words
        assert "07123 456789" in words and "07123 456700" in words and "Sam Taylor" in words
        done = await jo.post(f"/experts/changes/{change_id}/confirm", {})
        assert done.status_code == 303
        assert "is used from now on" in _text(await jo.get(done.headers["location"]))
    for channel in (Channel.SMS, Channel.PHONE):
        point = await _point(app, world.ana, channel)
        assert point is not None and point.value == "+447123456700"
        assert point.lookup_hash == app.cipher.blind_index("+447123456700")
    async with app.sessions() as session:
        change = await session.get(ContactChange, change_id)
        assert change is not None
        assert (change.status, change.decided_by_id) == (ChangeStatus.CONFIRMED, world.jo)


async def test_an_admin_can_turn_a_new_address_down_and_the_asker_can_withdraw(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        asked = await sam.post(
            f"/experts/{world.ana}/contact", {"postal_address": "2 New Road\nEH4 4DD"}
        )
        assert asked.status_code == 303
    async with app.sessions() as session:
        change_id = await session.scalar(select(ContactChange.id))
    async with signed_in(app, ALI) as ali:
        words = _text(await ali.get("/experts/changes"))
        assert "Postal address" in words and "2 New Road, EH4 4DD" in words
        assert (await ali.post(f"/experts/changes/{change_id}/reject", {})).status_code == 303
        assert "Nothing is waiting for you" in _text(await ali.get("/experts/changes"))
    assert await _point(app, world.ana, Channel.LETTER) is None
    async with signed_in(app, SAM) as sam:
        await sam.post(f"/experts/{world.ana}/contact", {"postal_address": "3 Other Road\nEH5"})
        async with app.sessions() as session:
            second = await session.scalar(
                select(ContactChange.id).where(ContactChange.status == ChangeStatus.PENDING)
            )
        withdrawn = await sam.post(f"/experts/changes/{second}/reject", {})
        assert withdrawn.status_code == 303
        assert withdrawn.headers["location"] == f"/experts/{world.ana}"
    async with app.sessions() as session:
        statuses = list(await session.scalars(select(ContactChange.status)))
    assert statuses == [ChangeStatus.REJECTED, ChangeStatus.REJECTED]


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({}, "phone", "Enter a new phone number, postal address or email address"),
        ({"phone": "0712"}, "phone", "Enter a phone number in the correct format"),
        ({"phone": "07123 456789"}, "phone", "This is already their phone number"),
        ({"postal_address": "Only one line"}, "postal_address", "at least two lines"),
        ({"email": "ana@"}, "email", "Enter an email address in the correct format"),
        ({"phone": "07123 456700", "email": "ana@"}, "email", "correct format"),
    ],
)
async def test_a_contact_change_that_makes_no_sense_saves_nothing(
    app: App, form: dict[str, Any], field: str, says: str
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        page = await sam.post(f"/experts/{world.ana}/contact", form)
    assert_error_by(page, field, says)
    assert await _count(app, ContactChange) == 0
    assert await _point(app, world.ana, Channel.EMAIL) is None


async def test_a_second_request_waits_for_the_first(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        await sam.post(f"/experts/{world.ana}/contact", {"phone": "07123 456700"})
        page = await sam.post(f"/experts/{world.ana}/contact", {"phone": "07123 456702"})
    assert_error_by(page, "phone", "already waiting for a second person")
    assert await _count(app, ContactChange) == 1


async def test_a_new_email_waits_for_a_second_person_and_the_old_one_stays_in_use(
    app: App,
) -> None:
    """L-4: one careless or stolen account cannot redirect someone's email."""
    world = await _world(app)
    async with app.sessions.begin() as session:
        await add_expert(app, session, ref="EX-5", email="old@example.net", phone="07123 456705")
    async with app.sessions() as session:
        eve = await session.scalar(select(Expert.id).where(Expert.ref == "EX-5"))
    assert eve is not None
    async with signed_in(app, SAM) as sam:
        done = await sam.post(f"/experts/{eve}/contact", {"email": "Home@Example.net"})
        assert done.status_code == 303
        words = _text(await sam.get(done.headers["location"]))
        assert "The new email address waits for a colleague to confirm it" in words
        contact = _text(await sam.get(f"/experts/{eve}/contact"))
        assert "old@example.net" in contact and "home@example.net" in contact
        async with app.sessions() as session:
            change = await session.scalar(select(ContactChange))
        assert change is not None and change.channel is Channel.EMAIL
        mine = await sam.post(f"/experts/changes/{change.id}/confirm")
        assert mine.status_code == 400
        assert "a colleague needs to confirm it" in _text(mine)
    point = await _point(app, eve, Channel.EMAIL)
    assert point is not None and point.value == "old@example.net"

    async with signed_in(app, ALI) as ali:
        waiting = _text(await ali.get("/experts/changes"))
        assert "Email address" in waiting and "home@example.net" in waiting
        confirmed = await ali.post(f"/experts/changes/{change.id}/confirm")
        assert confirmed.status_code == 303
        assert "new email address is used from now on" in _text(
            await ali.get(confirmed.headers["location"])
        )
    point = await _point(app, eve, Channel.EMAIL)
    assert point is not None and point.value == "home@example.net"
    assert world.ana != eve


async def test_a_detail_shared_across_caseloads_is_an_administrators_task_not_a_hint(
    app: App,
) -> None:
    """L-3: the link worker hears nothing about another caseload; an administrator checks."""
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        asked = await sam.post(f"/experts/{world.ana}/contact", {"phone": "07123 456701"})
        assert asked.status_code == 303
        words = _text(await sam.get(asked.headers["location"]))
        assert "waits for a colleague" in words and "another expert" not in words
        assert "Another expert has this" not in _text(await sam.get(f"/experts/{world.ana}"))
        unknown = await sam.post(f"/experts/{world.ana}/contact", {"email": "nobody@example.net"})
        assert "another expert" not in _text(await sam.get(unknown.headers["location"]))
    async with app.sessions() as session:
        shared = select(Task).where(Task.kind == TaskKind.SHARED_CONTACT)
        tasks = list(await session.scalars(shared))
    assert len(tasks) == 1
    task = tasks[0]
    assert task.assignee_id is None and task.expert_id is None
    assert "07123" not in task.title and "EX-" not in task.title and "Ana" not in task.title
    assert task.details is not None and "EX-1" in task.details and "EX-2" in task.details
    async with signed_in(app, SAM) as sam:
        assert (await sam.get(f"/tasks/{task.id}")).status_code == 404
        assert "experts in different caseloads" not in _text(await sam.get("/tasks"))
    async with signed_in(app, ALI) as ali:
        assert "experts in different caseloads share" in _text(await ali.get("/tasks"))
        assert "Another expert has this phone number" in _text(await ali.get("/experts/changes"))


async def test_a_detail_shared_within_your_caseload_is_flagged_to_you(app: App) -> None:
    world = await _world(app)
    async with app.sessions.begin() as session:
        await add_expert(app, session, ref="EX-6", email="shared@example.net", phone="07123 456706")
    async with signed_in(app, SAM) as sam:
        asked = await sam.post(f"/experts/{world.ana}/contact", {"phone": "07123 456706"})
        words = _text(await sam.get(asked.headers["location"]))
        assert "Please check: another expert has this phone number too" in words
        asked = await sam.post(f"/experts/{world.ana}/contact", {"email": "shared@example.net"})
        words = _text(await sam.get(asked.headers["location"]))
    assert "Please check: another expert has this email address too" in words
    async with app.sessions() as session:
        found = await session.scalar(select(Task).where(Task.kind == TaskKind.SHARED_CONTACT))
    assert found is None


async def test_audit_events_from_the_contact_pages_hold_no_contact_details(app: App) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        await sam.post(
            f"/experts/{world.ana}/contact",
            {
                "phone": "07123 456700",
                "postal_address": "9 Hidden Close\nEH9 9ZZ",
                "email": "private@example.net",
            },
        )
    async with signed_in(app, ALI) as ali:
        async with app.sessions() as session:
            ids = list(await session.scalars(select(ContactChange.id)))
        for change_id in ids:
            await ali.post(f"/experts/changes/{change_id}/confirm", {})
    async with app.sessions() as session:
        data = str(list(await session.scalars(select(AuditEvent.data))))
    for secret in ("456700", "Hidden Close", "EH9", "private@"):
        assert secret not in data


async def test_a_safe_time_on_their_page_takes_everyday_times_and_the_whole_day(
    app: App,
) -> None:
    world = await _world(app)
    async with signed_in(app, SAM) as sam:
        evening = {"window_days": ["mon"], "window_from": "6pm", "window_until": "midnight"}
        weekend = {"window_days": ["sat", "sun"], "window_all_day": "all-day"}
        for form in (evening, weekend):
            added = await sam.post(f"/experts/{world.ana}/windows", form)
            assert added.status_code == 303, _text(added)
        listed = _text(await sam.get(f"/experts/{world.ana}/windows"))
    assert "Monday, 6pm to midnight" in listed
    assert "Saturday and Sunday, at any time" in listed
