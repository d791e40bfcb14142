"""The engagement pages, as a link worker and an administrator use them: drafts, publishing,
inviting, answers, the planned messages, attendance, outcomes and the 24-hour rule."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from scheduling.people.ledger import open_line
from store.enums import (
    EngagementStatus,
    InvitationAnswer,
    MessageStatus,
    PaymentPurpose,
    Purpose,
    Role,
    TaskKind,
)
from store.models import AuditEvent, Engagement, Expert, Invitation, Message, Task
from tests.builders import FULL_DETAILS, add_engagement, add_expert, all_tasks, outbox
from tests.staff_client import add_account, cookie_contents, signed_in

SAM, LEE, ADMIN = "sam@example.org", "lee@example.org", "ada@example.org"


async def _people(app: App) -> dict[str, Expert]:
    """Sam (link worker) with Ana and Bea, Lee (link worker) with Cal, and Ada (admin)."""
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Lee Park", email=LEE)
        await add_account(app, session, name="Ada Admin", email=ADMIN, role=Role.ADMIN)
        ana = await add_expert(app, session, preferred_name="Ana", ref="EX-1")
        bea = await add_expert(app, session, preferred_name="Bea", ref="EX-2", phone="07123 456780")
        cal = await add_expert(
            app, session, preferred_name="Cal", ref="EX-3", link_worker=LEE, phone="07123 456781"
        )
        return {"ana": ana, "bea": bea, "cal": cal}


async def _engagement(app: App, **kwargs: object) -> Engagement:
    async with app.sessions.begin() as session:
        return await add_engagement(app, session, **kwargs)  # type: ignore[arg-type]


async def _load(app: App, engagement_id: int) -> Engagement:
    async with app.sessions() as session:
        return await engagement_service.get_engagement(session, engagement_id)


async def _count(app: App, model: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _engagement_events(app: App) -> int:
    async with app.sessions() as session:
        count = await session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.entity == "engagement")
        )
        return int(count or 0)


def _when(moment: datetime, start: str = "14:00", end: str = "16:00") -> dict[str, str]:
    return {
        "starts_on-day": str(moment.day),
        "starts_on-month": str(moment.month),
        "starts_on-year": str(moment.year),
        "start_time": start,
        "end_time": end,
    }


def _error_by(page: httpx.Response, field: str, words: str) -> None:
    """The message sits next to its field (GOV.UK's `<id>-error`) and in the summary, which
    links to the field (for a date, its first box)."""
    assert page.status_code == 400, page.text
    near = "starts_on" if field == "starts_on-day" else field
    found = re.search(rf'id="{re.escape(near)}-error"[^>]*>(.*?)</p>', page.text, re.S)
    assert found, f"no error next to {field}"
    assert words in found.group(1), found.group(1)
    assert f'href="#{field}' in page.text


def _id_from(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    found = re.match(r"/engagements/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))


# --- the whole journey --------------------------------------------------------------------


async def test_a_draft_is_refused_until_complete_then_published_invited_and_planned(
    app: App,
) -> None:
    people = await _people(app)
    day = datetime(2026, 3, 31, tzinfo=UTC)  # after the clocks go forward: London is UTC+1
    async with signed_in(app, SAM) as sam:
        form = await sam.get("/engagements/new")
        assert form.status_code == 200 and "What it is for" in form.text
        created = await sam.post(
            "/engagements/new",
            {"title": "Panel on first calls", "kind": "meeting", "purpose": "Shape first calls"}
            | _when(day),
        )
        engagement_id = _id_from(created)
        saved = await _load(app, engagement_id)
        assert saved.status is EngagementStatus.DRAFT and saved.lead.email == SAM
        assert saved.starts_at == datetime(2026, 3, 31, 13, 0, tzinfo=UTC)  # 14:00 London

        page = await sam.get(f"/engagements/{engagement_id}")
        assert page.status_code == 200 and "Draft" in page.text and "Missing" in page.text

        refused = await sam.post(f"/engagements/{engagement_id}/publish")
        assert refused.status_code == 400
        assert "Fill these in before publishing" in refused.text
        for label, field in (("Objectives", "objectives"), ("Paperwork", "paperwork")):
            assert f"{label} is missing" in refused.text
            assert f'href="/engagements/{engagement_id}/edit#{field}"' in refused.text
        assert "Venue address or online link is missing" in refused.text
        assert "Purpose is missing" not in refused.text
        assert (await _load(app, engagement_id)).status is EngagementStatus.DRAFT

        edit = await sam.get(f"/engagements/{engagement_id}/edit")
        assert edit.status_code == 200 and "Shape first calls" in edit.text
        filled = await sam.post(
            f"/engagements/{engagement_id}/edit",
            {"title": "Panel on first calls", "kind": "meeting"} | FULL_DETAILS | _when(day),
        )
        assert filled.status_code == 303
        published = await sam.post(f"/engagements/{engagement_id}/publish")
        assert published.status_code == 303
        assert (await _load(app, engagement_id)).status is EngagementStatus.PUBLISHED

        invite_page = await sam.get(f"/engagements/{engagement_id}/invite")
        assert "Ana (EX-1)" in invite_page.text and "Bea (EX-2)" in invite_page.text
        assert "Cal" not in invite_page.text  # Lee's expert
        invited = await sam.post(
            f"/engagements/{engagement_id}/invite",
            {"experts": [str(people["ana"].id), str(people["bea"].id)]},
        )
        assert invited.status_code == 303
        again = await sam.get(f"/engagements/{engagement_id}/invite")
        assert "Ana (EX-1)" not in again.text  # already invited

        reminders = await outbox(app, purpose=Purpose.REMINDER)
        assert {m.expert_id for m in reminders} == {people["ana"].id, people["bea"].id}
        # 10:00 in London the day before, which is 09:00 UTC in summer time.
        assert reminders[0].due_at == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
        show = (await sam.get(f"/engagements/{engagement_id}")).text
        assert "Planned messages" in show and "Reminder" in show and "Pre-brief" in show
        assert "30 Mar 2026, 10:00" in show  # the reminder, in London time
        assert "24 Mar 2026, 10:00" in show  # the pre-brief, still GMT
        # The channel each will really go on, not "chosen when it goes".
        assert "Planned" in show and "Text message" in show

        listing = await sam.get("/engagements")
        assert "Panel on first calls" in listing.text and "Published" in listing.text

    async with app.sessions() as session:
        viewed = await session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "engagement.viewed", AuditEvent.entity_id == engagement_id
            )
        )
        assert viewed and viewed >= 2


async def test_an_answer_given_by_phone_is_recorded_with_support_needs(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(app, experts=[people["ana"], people["cal"]])
    ana_invitation = next(i for i in engagement.invitations if i.expert_id == people["ana"].id)
    cal_invitation = next(i for i in engagement.invitations if i.expert_id == people["cal"].id)
    path = f"/engagements/{engagement.id}/answers/{ana_invitation.id}"
    async with signed_in(app, SAM) as sam:
        assert (await sam.get(path)).status_code == 200
        answered = await sam.post(path, {"answer": "yes", "support_needs": "A quiet room"})
        assert answered.status_code == 303
        # Cal is Lee's: Sam leads the engagement, but may not record Cal's health details.
        assert (
            await sam.get(f"/engagements/{engagement.id}/answers/{cal_invitation.id}")
        ).status_code == 404
    saved = await _load(app, engagement.id)
    ana = next(i for i in saved.invitations if i.expert_id == people["ana"].id)
    assert ana.answer is InvitationAnswer.YES and ana.support_needs == "A quiet room"

    async with signed_in(app, LEE) as lee:
        page = await lee.get(f"/engagements/{engagement.id}")
        assert page.status_code == 200  # his expert Cal is invited
        assert "A quiet room" not in page.text
        assert "Recorded: ask their link worker, Sam Taylor" in page.text
        assert (await lee.get(path)).status_code == 404
    async with signed_in(app, ADMIN) as admin:
        assert "A quiet room" in (await admin.get(f"/engagements/{engagement.id}")).text


# --- the 24-hour rule ---------------------------------------------------------------------


async def test_a_late_cancellation_lists_who_to_phone_until_each_is_told(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(
        app, starts_in=timedelta(hours=10), experts=[people["ana"], people["bea"]]
    )
    bea = next(i for i in engagement.invitations if i.expert_id == people["bea"].id)
    async with signed_in(app, SAM) as sam:
        warning = await sam.get(f"/engagements/{engagement.id}/cancel")
        assert "It starts in less than 24 hours" in warning.text
        cancelled = await sam.post(
            f"/engagements/{engagement.id}/cancel", {"reason": "The venue flooded"}
        )
        assert cancelled.status_code == 303
        page = await sam.get(f"/engagements/{engagement.id}")
        assert "Who still has to be phoned" in page.text
        assert "Ana (EX-1)" in page.text and "07123 456789" in page.text
        assert "Bea (EX-2)" in page.text and "07123 456780" in page.text
        assert "someone must be at the venue" in page.text

        told = await sam.post(f"/engagements/{engagement.id}/told/{bea.id}")
        assert told.status_code == 303
        carried = cookie_contents(sam)  # the banner names her by reference (M-1)
        assert "EX-2" in str(carried) and "Bea" not in str(carried)
        page = (await sam.get(f"/engagements/{engagement.id}")).text
        calls = page.split("Who still has to be phoned")[1].split("Told in person or by phone")[0]
        assert "Ana (EX-1)" in calls and "Bea" not in calls
        assert "Told in person or by phone" in page

    saved = await _load(app, engagement.id)
    assert saved.status is EngagementStatus.CANCELLED and saved.cancel_reason == "The venue flooded"
    told_at = {i.expert_id: i.told_verbally_at for i in saved.invitations}
    assert told_at[people["bea"].id] is not None and told_at[people["ana"].id] is None
    calls_open = [
        t
        for t in await all_tasks(app)
        if t.kind is TaskKind.PHONE_CALL and t.status.value == "open"
    ]
    assert [t.expert_id for t in calls_open] == [people["ana"].id]


async def test_an_early_cancellation_tells_everyone_by_message(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(app, experts=[people["ana"], people["bea"]])
    async with signed_in(app, SAM) as sam:
        assert (
            "It starts in less than 24 hours"
            not in (await sam.get(f"/engagements/{engagement.id}/cancel")).text
        )
        await sam.post(f"/engagements/{engagement.id}/cancel", {"reason": "Not enough people"})
        page = (await sam.get(f"/engagements/{engagement.id}")).text
        assert "Who still has to be phoned" not in page
        assert "told by message automatically (2" in page
        assert "Cancellation notice" in page
    notices = await outbox(app, purpose=Purpose.CANCELLATION)
    assert len(notices) == 2


async def test_a_cancelled_engagement_cannot_be_published_edited_invited_or_cancelled_again(
    app: App,
) -> None:
    people = await _people(app)
    engagement = await _engagement(app, publish=False)
    async with signed_in(app, SAM) as sam:
        await sam.post(f"/engagements/{engagement.id}/cancel", {"reason": "Plans changed"})
        base = f"/engagements/{engagement.id}"
        for path, data, words in (
            ("/publish", {}, "was cancelled, so it cannot be published"),
            ("/edit", {"title": "New"}, "is cancelled, so it cannot be edited"),
            ("/invite", {"experts": str(people["ana"].id)}, "nobody more can be invited"),
            ("/cancel", {"reason": "Again"}, "already cancelled"),
            ("/move", {}, "cancelled, so it cannot be moved"),
        ):
            refused = await sam.post(base + path, data)
            assert refused.status_code == 400, path
            assert words in refused.text, path
        assert (await sam.get(base + "/edit")).status_code == 400
    saved = await _load(app, engagement.id)
    assert saved.title == "First contact workshop" and saved.invitations == []
    assert saved.cancel_reason == "Plans changed"


# --- afterwards ---------------------------------------------------------------------------


def _text(page: httpx.Response) -> str:
    """The page's words as a person reads them, without the markup."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


async def test_attendance_and_outcomes_after_the_engagement(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(app, experts=[people["ana"], people["bea"]])
    ana = next(i for i in engagement.invitations if i.expert_id == people["ana"].id)
    bea = next(i for i in engagement.invitations if i.expert_id == people["bea"].id)
    base = f"/engagements/{engagement.id}"
    async with signed_in(app, SAM) as sam:
        early = await sam.get(base + "/attendance")
        assert "once the engagement has started" in early.text
        refused = await sam.post(base + "/attendance", {f"attended-{ana.id}": "came"})
        assert refused.status_code == 400

        app.clock.set(engagement.ends_at + timedelta(hours=1))  # type: ignore[attr-defined]
        async with app.sessions.begin() as session:
            invited = await session.get(Invitation, ana.id)
            assert invited is not None
            await open_line(
                session, invited, PaymentPurpose.TRAVEL, 1240, now=app.clock.now(), actor="test"
            )
        await sam.sign_in(SAM)  # the session ended while the clock moved on
        sheet = _text(await sam.get(base + "/attendance"))
        # Money is kept in the ledger alone: the sheet shows where it stands, and says where
        # it is paid, with nothing of its own to tick that could disagree.
        assert "Payments: Travel £12.40, owed." in sheet
        assert "Payments: none recorded yet." in sheet
        assert "this engagement’s payments page" in sheet and "Costs paid back" not in sheet
        saved = await sam.post(
            base + "/attendance",
            {
                f"attended-{ana.id}": "came",
                f"attended-{bea.id}": "missed",
                "costs_settled": [str(ana.id)],  # an old form's field changes nothing
            },
        )
        assert saved.status_code == 303
        outcomes = await sam.post(base + "/outcomes", {"outcomes": "Calls now start slower."})
        assert outcomes.status_code == 303
        page = (await sam.get(base)).text
        assert "You said, we did" in page and "Calls now start slower." in page

    after = await _load(app, engagement.id)
    by_expert = {i.expert_id: i for i in after.invitations}
    assert by_expert[people["ana"].id].attended is True
    assert by_expert[people["bea"].id].attended is False
    assert by_expert[people["ana"].id].costs_settled is False  # nothing kept beside the ledger
    assert after.outcomes == "Calls now start slower."
    feedback = await outbox(app, purpose=Purpose.FEEDBACK)
    assert [m.expert_id for m in feedback] == [people["ana"].id]
    assert any(t.kind is TaskKind.MISSED_YOU for t in await all_tasks(app))


# --- who may see what ---------------------------------------------------------------------


def _pages(engagement_id: int, invitation_id: int) -> list[str]:
    base = f"/engagements/{engagement_id}"
    return [
        base,
        base + "/invite",
        base + f"/answers/{invitation_id}",
        base + "/attendance",
        base + "/outcomes",
        base + "/cancel",
    ]


def _forms(engagement_id: int, invitation_id: int) -> list[str]:
    base = f"/engagements/{engagement_id}"
    return [
        base + "/publish",
        base + "/edit",
        base + "/move",
        base + "/invite",
        base + f"/answers/{invitation_id}",
        base + "/attendance",
        base + "/outcomes",
        base + "/cancel",
        base + f"/told/{invitation_id}",
        base + "/plan",
    ]


async def test_a_link_worker_out_of_scope_finds_nothing_and_changes_nothing(app: App) -> None:
    people = await _people(app)
    draft = await _engagement(app, publish=False, experts=[people["ana"]])
    live = await _engagement(app, experts=[people["bea"]])
    draft_inv, live_inv = draft.invitations[0].id, live.invitations[0].id
    events = await _engagement_events(app)
    async with signed_in(app, LEE) as lee:
        for engagement_id, invitation_id in ((draft.id, draft_inv), (live.id, live_inv)):
            for path in [
                *_pages(engagement_id, invitation_id),
                f"/engagements/{engagement_id}/edit",
                f"/engagements/{engagement_id}/move",
            ]:
                assert (await lee.get(path)).status_code == 404, path
            for path in _forms(engagement_id, invitation_id):
                posted = await lee.post(path, {"reason": "x", "answer": "no", "title": "x"})
                assert posted.status_code == 404, path
        listing = await lee.get("/engagements")
        assert "First contact workshop" not in listing.text
    assert await _engagement_events(app) == events  # nothing viewed, nothing changed
    assert (await _load(app, live.id)).status is EngagementStatus.PUBLISHED
    assert (await _load(app, draft.id)).status is EngagementStatus.DRAFT

    for email in (SAM, ADMIN):
        async with signed_in(app, email) as person:
            for path in [*_pages(draft.id, draft_inv), f"/engagements/{draft.id}/edit"]:
                assert (await person.get(path)).status_code == 200, (email, path)
            for path in [*_pages(live.id, live_inv), f"/engagements/{live.id}/move"]:
                assert (await person.get(path)).status_code == 200, (email, path)
    async with signed_in(app, SAM) as sam:
        assert (await sam.get("/engagements/999")).status_code == 404
        assert (await sam.get(f"/engagements/{live.id}/answers/999")).status_code == 404
        assert (await sam.post(f"/engagements/{live.id}/told/999")).status_code == 404


# --- bad input: 400, the message by the field, nothing saved ------------------------------


async def test_a_new_engagement_with_bad_input_is_refused_with_every_problem_and_not_saved(
    app: App,
) -> None:
    await _people(app)
    future = datetime(2026, 3, 17, tzinfo=UTC)
    async with signed_in(app, SAM) as sam:
        page = await sam.post(
            "/engagements/new",
            {"title": "", "online_link": "http://example.org/call"}
            | _when(future, "14:00", "13:00"),
        )
        _error_by(page, "title", "An engagement needs a title")
        _error_by(page, "end_time", "must end after it starts")
        _error_by(page, "online_link", "starting with https://")
        _error_by(
            await sam.post(
                "/engagements/new",
                {"title": "T"} | _when(future) | {"starts_on-day": "31", "starts_on-month": "2"},
            ),
            "starts_on-day",
            "Enter a real date",
        )
        _error_by(
            await sam.post("/engagements/new", {"title": "T"} | _when(datetime(2025, 12, 1))),
            "starts_on-day",
            "starts in the past",
        )
        _error_by(
            await sam.post("/engagements/new", {"title": "T"} | _when(future, "quarter past")),
            "start_time",
            "24-hour clock",
        )
        _error_by(
            await sam.post("/engagements/new", {"title": "T", "kind": "nonsense"} | _when(future)),
            "kind",
            "Choose a kind from the list",
        )
        refilled = await sam.post("/engagements/new", {"title": "Keep me"} | _when(future, "", ""))
        assert 'value="Keep me"' in refilled.text
    assert await _count(app, Engagement) == 0


async def test_editing_and_moving_with_bad_input_change_nothing(app: App) -> None:
    await _people(app)
    draft = await _engagement(app, publish=False)
    live = await _engagement(app, title="Live one")
    future = datetime(2026, 3, 17, tzinfo=UTC)
    async with signed_in(app, SAM) as sam:
        edit = await sam.post(
            f"/engagements/{draft.id}/edit",
            {"title": "", "kind": "meeting", "online_link": "ftp://x"} | _when(future),
        )
        _error_by(edit, "title", "needs a title")
        _error_by(edit, "online_link", "https://")
        moved = await sam.post(f"/engagements/{live.id}/move", _when(future, "15:00", "14:00"))
        _error_by(moved, "end_time", "must end after it starts")
        past = await sam.post(f"/engagements/{live.id}/move", _when(datetime(2026, 1, 1)))
        _error_by(past, "starts_on-day", "in the past")
        # A published engagement moves through `move`, never the draft's edit form.
        assert (await sam.post(f"/engagements/{live.id}/edit", {"title": "x"})).status_code == 400
    assert (await _load(app, draft.id)).title == "First contact workshop"
    after = await _load(app, live.id)
    assert (after.starts_at, after.ends_at, after.title) == (
        live.starts_at,
        live.ends_at,
        "Live one",
    )


async def test_a_good_move_moves_the_unsent_messages_with_it(app: App) -> None:
    people = await _people(app)
    live = await _engagement(app, experts=[people["ana"]])
    async with signed_in(app, SAM) as sam:
        moved = await sam.post(
            f"/engagements/{live.id}/move", _when(datetime(2026, 2, 10), "11:00", "12:30")
        )
        assert moved.status_code == 303
    after = await _load(app, live.id)
    assert after.starts_at == datetime(2026, 2, 10, 11, 0, tzinfo=UTC)
    reminder = (await outbox(app, purpose=Purpose.REMINDER))[0]
    assert reminder.due_at == datetime(2026, 2, 9, 10, 0, tzinfo=UTC)


async def test_other_forms_refuse_bad_input_and_save_nothing(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(app, experts=[people["ana"]])
    invitation = engagement.invitations[0]
    base = f"/engagements/{engagement.id}"
    async with signed_in(app, SAM) as sam:
        _error_by(await sam.post(base + "/invite", {}), "experts", "Choose at least one")
        _error_by(
            await sam.post(base + "/invite", {"experts": str(people["cal"].id)}),
            "experts",
            "Choose people from the list",
        )
        _error_by(
            await sam.post(base + f"/answers/{invitation.id}", {"support_needs": "Lift"}),
            "answer",
            "Choose yes, no or maybe",
        )
        _error_by(await sam.post(base + "/cancel", {"reason": "  "}), "reason", "Say why")
        not_cancelled = await sam.post(base + f"/told/{invitation.id}")
        assert not_cancelled.status_code == 400 and "nobody needs telling" in not_cancelled.text
        _error_by(
            await sam.post(base + "/plan", {"pre_brief_days": "3", "reminder_days": "5"}),
            "reminder_days",
            "The reminder must come after the pre-brief",
        )
        _error_by(
            await sam.post(base + "/plan", {"pre_brief_days": "soon"}),
            "pre_brief_days",
            "whole number",
        )
        _error_by(
            await sam.post(base + "/plan", {"send_at": "06:00"}), "send_at", "07:00 and 21:00"
        )

        app.clock.set(engagement.ends_at + timedelta(hours=1))  # type: ignore[attr-defined]
        await sam.sign_in(SAM)  # the session ended while the clock moved on
        _error_by(
            await sam.post(base + "/attendance", {f"attended-{invitation.id}": "perhaps"}),
            f"attended-{invitation.id}",
            "Choose came or did not come",
        )
        _error_by(await sam.post(base + "/outcomes", {"outcomes": " "}), "outcomes", "empty")
        _error_by(
            await sam.post(base + "/outcomes", {"outcomes": "x" * 1001}), "outcomes", "under 1000"
        )
    after = await _load(app, engagement.id)
    assert after.status is EngagementStatus.PUBLISHED and after.outcomes is None
    assert after.plan_overrides == {}
    assert [(i.expert_id, i.answer, i.support_needs, i.attended) for i in after.invitations] == [
        (people["ana"].id, InvitationAnswer.PENDING, None, None)
    ]


async def test_an_engagement_plan_of_its_own_moves_its_unsent_messages(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(app, experts=[people["ana"]])
    before = (await outbox(app, purpose=Purpose.PRE_BRIEF))[0].due_at
    async with signed_in(app, SAM) as sam:
        saved = await sam.post(f"/engagements/{engagement.id}/plan", {"pre_brief_days": "9"})
        assert saved.status_code == 303
        page = (await sam.get(f"/engagements/{engagement.id}")).text
        assert "set for this engagement" in page
    after = (await outbox(app, purpose=Purpose.PRE_BRIEF))[0]
    assert after.status is MessageStatus.PENDING
    assert after.due_at == before - timedelta(days=2)
    assert (await _load(app, engagement.id)).plan_overrides == {"pre_brief_days": 9}
    async with app.sessions() as session:
        assert await session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "plan.engagement_settings")
        )


async def test_the_list_separates_upcoming_from_past_with_answer_counts(app: App) -> None:
    people = await _people(app)
    engagement = await _engagement(app, experts=[people["ana"], people["bea"]])
    async with app.sessions.begin() as session:
        loaded = await engagement_service.get_engagement(session, engagement.id)
        await engagement_service.record_answer(
            session,
            loaded,
            people["ana"].id,
            InvitationAnswer.YES,
            app.offsets,
            now=app.clock.now(),
            actor="test",
        )
    async with signed_in(app, ADMIN) as admin:
        page = (await admin.get("/engagements")).text
        row = page.split("First contact workshop")[1].split("</tr>")[0]
        numbers = re.findall(r"numeric\">(\d+)</td>", row)
        assert numbers == ["2", "1", "0", "0"]
        assert "Coming up" in page and "Create an engagement" in page
    async with app.sessions() as session:
        assert await session.scalar(select(func.count(Invitation.id))) == 2
        assert await session.scalar(select(func.count(Message.id)))
        assert await session.scalar(select(func.count(Task.id))) == 0


async def test_a_link_worker_sees_a_colleagues_engagement_but_is_offered_no_changes(
    app: App,
) -> None:
    """H-1: Lee sees Sam's engagement because Cal is invited, and may record Cal's answer,
    but is offered nothing that would change it, and a change sent anyway is not found."""
    people = await _people(app)
    engagement = await _engagement(
        app, starts_in=timedelta(hours=10), experts=[people["ana"], people["cal"]]
    )
    async with signed_in(app, LEE) as lee:
        page = await lee.get(f"/engagements/{engagement.id}")
        assert page.status_code == 200
        assert "Only its lead, Sam Taylor" in page.text
        assert f"/engagements/{engagement.id}/cancel" not in page.text
        assert f'action="/engagements/{engagement.id}/plan"' not in page.text
        cancelled = await lee.post(f"/engagements/{engagement.id}/cancel", {"reason": "x"})
        assert cancelled.status_code == 404
    assert (await _load(app, engagement.id)).status is EngagementStatus.PUBLISHED
    async with signed_in(app, SAM) as sam:
        await sam.post(f"/engagements/{engagement.id}/cancel", {"reason": "The venue flooded"})
        page = (await sam.get(f"/engagements/{engagement.id}")).text
        calls = page.split("Who still has to be phoned")[1].split("</section>")[0]
        cal = next(i for i in engagement.invitations if i.expert_id == people["cal"].id)
        assert "Cal (EX-3)" in calls and f"/told/{cal.id}" not in calls
        assert (await sam.post(f"/engagements/{engagement.id}/told/{cal.id}")).status_code == 404
    async with signed_in(app, LEE) as lee:
        assert (await lee.post(f"/engagements/{engagement.id}/told/{cal.id}")).status_code == 303
