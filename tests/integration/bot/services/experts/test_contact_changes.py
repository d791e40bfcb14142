"""A new phone number or postal address waits for a second person; email changes at once;
two experts with the same number or email are flagged, never refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App
from bot.services.experts import contact_changes as changes
from bot.services.experts.contact_changes import ContactChangeError
from store.enums import ChangeStatus, Channel, Role
from store.models import AuditEvent, ContactChange, ContactPoint, Expert, Staff
from tests.builders import add_expert, add_staff

NEW_NUMBER = "07123 456700"
NEW_E164 = "+447123456700"


async def _people(app: App) -> tuple[int, int, int]:
    """Ana (Sam's expert), Sam, and Jo, another link worker."""
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, ref="EX-1")
        sam = await add_staff(session, now=app.clock.now())
        jo = await add_staff(session, name="Jo Reid", email="jo@example.org", now=app.clock.now())
        return ana.id, sam.id, jo.id


async def _points(app: App, expert_id: int) -> dict[Channel, ContactPoint]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(ContactPoint).where(ContactPoint.expert_id == expert_id)
        )
        return {p.channel: p for p in rows}


async def _request(
    app: App, session: AsyncSession, expert_id: int, staff_id: int, channel: Channel, text: str
) -> changes.Requested:
    expert, staff = await session.get(Expert, expert_id), await session.get(Staff, staff_id)
    assert expert is not None and staff is not None
    return await changes.request_change(
        session,
        app.cipher,
        expert,
        staff,
        channel=channel,
        text=text,
        now=app.clock.now(),
        actor=staff.email,
    )


async def _decide(app: App, change_id: int, staff_id: int, *, confirm: bool) -> None:
    async with app.sessions.begin() as session:
        change = await session.get(ContactChange, change_id)
        staff = await session.get(Staff, staff_id)
        assert change is not None and staff is not None
        if confirm:
            await changes.confirm_change(
                session, app.cipher, change, staff, now=app.clock.now(), actor=staff.email
            )
        else:
            await changes.reject_change(
                session, change, staff, now=app.clock.now(), actor=staff.email
            )


async def test_a_new_number_is_used_only_once_someone_else_confirms_it(app: App) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        made = await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)
        change_id = made.change.id
    before = await _points(app, ana)
    assert before[Channel.SMS].value == before[Channel.PHONE].value == "+447123456789"

    with pytest.raises(ContactChangeError, match="a colleague needs to confirm it"):
        await _decide(app, change_id, sam, confirm=True)
    assert (await _points(app, ana))[Channel.SMS].value == "+447123456789"

    await _decide(app, change_id, jo, confirm=True)
    after = await _points(app, ana)
    for channel in (Channel.SMS, Channel.PHONE):  # one number, for texts and calls
        assert after[channel].value == NEW_E164
        assert after[channel].lookup_hash == app.cipher.blind_index(NEW_E164)
        assert after[channel].usable
    async with app.sessions() as session:
        change = await session.get(ContactChange, change_id)
        assert change is not None
        assert (change.status, change.decided_by_id) == (ChangeStatus.CONFIRMED, jo)
        assert change.decided_at == app.clock.now()


async def test_confirming_clears_an_old_opt_out_and_a_decided_change_cannot_be_decided_again(
    app: App,
) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        point = await session.scalar(
            select(ContactPoint).where(
                ContactPoint.expert_id == ana, ContactPoint.channel == Channel.SMS
            )
        )
        assert point is not None
        point.opted_out_at, point.opt_out_reason = app.clock.now(), "number no longer in use"
        change_id = (await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)).change.id
    await _decide(app, change_id, jo, confirm=True)
    assert (await _points(app, ana))[Channel.SMS].opted_out_at is None
    with pytest.raises(ContactChangeError, match="already dealt with"):
        await _decide(app, change_id, jo, confirm=False)


async def test_a_turned_down_change_changes_nothing_and_the_asker_may_withdraw_theirs(
    app: App,
) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        first = (await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)).change.id
    await _decide(app, first, jo, confirm=False)
    async with app.sessions.begin() as session:
        second = (await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)).change.id
    await _decide(app, second, sam, confirm=False)  # withdrawn by the person who asked
    assert (await _points(app, ana))[Channel.SMS].value == "+447123456789"
    async with app.sessions() as session:
        statuses = list(await session.scalars(select(ContactChange.status)))
        actions = list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert statuses == [ChangeStatus.REJECTED, ChangeStatus.REJECTED]
    rejected = [e.data["withdrawn"] for e in actions if e.action == "contact.change_rejected"]
    assert rejected == [False, True]


async def test_a_postal_address_waits_too_and_is_kept_line_by_line(app: App) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        made = await _request(app, session, ana, sam, Channel.LETTER, "1 New Street\n\nEH1 1AA ")
        assert made.shared_with == []
    assert Channel.LETTER not in await _points(app, ana)
    await _decide(app, made.change.id, jo, confirm=True)
    letter = (await _points(app, ana))[Channel.LETTER]
    assert letter.value == "1 New Street\nEH1 1AA"
    assert letter.lookup_hash is None and letter.usable


@pytest.mark.parametrize(
    ("channel", "text", "says"),
    [
        (Channel.SMS, "", "Enter the new phone number"),
        (Channel.SMS, "12345", "like 07123 456789"),
        (Channel.PHONE, "07123 456789", "already their phone number"),
        (Channel.LETTER, "Just one line", "at least two lines"),
        (Channel.EMAIL, "not an address", "like name@example.org"),
        (Channel.TELEGRAM, "12345", "Only a phone number, email address or postal address"),
    ],
)
async def test_a_change_that_makes_no_sense_is_refused(
    app: App, channel: Channel, text: str, says: str
) -> None:
    ana, sam, _ = await _people(app)
    async with app.sessions.begin() as session:
        with pytest.raises(ContactChangeError, match=says):
            await _request(app, session, ana, sam, channel, text)
    async with app.sessions() as session:
        assert await session.scalar(select(ContactChange.id)) is None


async def test_one_request_waits_at_a_time(app: App) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)
    async with app.sessions.begin() as session:
        with pytest.raises(ContactChangeError, match="already waiting"):
            await _request(app, session, ana, jo, Channel.SMS, "07123 456701")


async def test_a_number_another_expert_has_is_allowed_but_flagged(app: App) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        bo = (await add_expert(app, session, ref="EX-2", phone=NEW_NUMBER)).id
        made = await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)
        assert made.shared_with == [bo]
        assert await changes.shared_contacts(session) == {}  # not in use yet
    await _decide(app, made.change.id, jo, confirm=True)
    async with app.sessions() as session:
        assert await changes.shared_contacts(session) == {ana: {bo}, bo: {ana}}
        assert await changes.shared_contacts(session, [bo]) == {bo: {ana}}


async def test_a_new_email_waits_for_a_second_person_and_is_flagged_when_shared(
    app: App,
) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        bo = (
            await add_expert(app, session, ref="EX-2", phone="07123 456701", email="x@example.net")
        ).id
        made = await _request(app, session, ana, sam, Channel.EMAIL, " X@Example.NET ")
        assert made.shared_with == [bo] and made.change.channel is Channel.EMAIL
    assert Channel.EMAIL not in await _points(app, ana)  # nothing in use until confirmed
    await _decide(app, made.change.id, jo, confirm=True)
    email = (await _points(app, ana))[Channel.EMAIL]
    assert email.value == "x@example.net" and email.usable
    async with app.sessions.begin() as session:
        with pytest.raises(ContactChangeError, match="already their email"):
            await _request(app, session, ana, sam, Channel.EMAIL, "x@example.net")
    async with app.sessions() as session:
        assert (await changes.shared_contacts(session))[ana] == {bo}


async def test_the_audit_trail_never_holds_a_number_or_an_address(app: App) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        phone = (await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)).change.id
        post = (
            await _request(app, session, ana, sam, Channel.LETTER, "1 Safe Lane\nEH2 2BB")
        ).change
        email = (await _request(app, session, ana, sam, Channel.EMAIL, "quiet@example.net")).change
    await _decide(app, phone, jo, confirm=True)
    await _decide(app, email.id, jo, confirm=True)
    await _decide(app, post.id, jo, confirm=False)
    async with app.sessions() as session:
        events = list(await session.scalars(select(AuditEvent)))
    text = json.dumps([e.data for e in events])
    for secret in ("456700", "7123456700", "Safe Lane", "EH2", "quiet@"):
        assert secret not in text
    assert {e.action for e in events} >= {
        "contact.change_requested",
        "contact.change_confirmed",
        "contact.change_rejected",
    }


async def test_changes_to_confirm_are_someone_elses_within_what_you_may_see(app: App) -> None:
    ana, sam, jo = await _people(app)
    async with app.sessions.begin() as session:
        await _request(app, session, ana, sam, Channel.SMS, NEW_NUMBER)
        admin = await add_staff(
            session, name="Ali", email="ali@example.org", role=Role.ADMIN, now=app.clock.now()
        )
    async with app.sessions() as session:
        sam_staff, jo_staff = await session.get(Staff, sam), await session.get(Staff, jo)
        assert sam_staff is not None and jo_staff is not None
        everyone = Expert.id.is_not(None)
        assert await changes.changes_to_confirm(session, everyone, sam_staff) == []
        mine = await changes.changes_to_confirm(session, everyone, admin)
        assert [c.expert.ref for c in mine] == ["EX-1"]
        jo_sees = Expert.link_worker_id == jo
        assert await changes.changes_to_confirm(session, jo_sees, jo_staff) == []
