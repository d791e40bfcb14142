"""The late-cancellation call list, worked in one pass: per person, whether the written
notice went, a number to tap, whether calls are agreed, their safe times (with a warning
when none comes before the start), and "told by phone" with a note that can be undone."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from store.enums import TaskKind, TaskStatus
from store.models import Engagement, Expert
from tests.builders import add_engagement, add_expert, all_tasks
from tests.staff_client import add_account, signed_in

SAM, LEE = "sam@example.org", "lee@example.org"


async def _late_cancellation(app: App) -> tuple[Engagement, dict[str, Expert]]:
    """Ana agreed to calls, but only at weekends; Bea only to texts. It is Monday 8am and
    the meeting at 6pm is cancelled."""
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Lee Park", email=LEE)
        ana = await add_expert(
            app,
            session,
            preferred_name="Ana",
            ref="EX-1",
            consent={"sms": {"allowed": True}, "phone": {"allowed": True}},
            windows=[{"days": "sat-sun", "hours": "10:00-22:00"}],
        )
        bea = await add_expert(app, session, preferred_name="Bea", ref="EX-2", phone="07123 456780")
        engagement = await add_engagement(
            app, session, starts_in=timedelta(hours=10), experts=[ana, bea]
        )
        await engagement_service.cancel(
            session, engagement, "The venue flooded", now=app.clock.now(), actor="test"
        )
        return engagement, {"ana": ana, "bea": bea}


def _card(page: str, invitation_id: int) -> str:
    return page.split(f'id="call-{invitation_id}"')[1].split('class="govuk-summary-card"')[0]


async def test_each_person_to_phone_shows_what_makes_the_call_safe(app: App) -> None:
    engagement, people = await _late_cancellation(app)
    ana = next(i for i in engagement.invitations if i.expert_id == people["ana"].id)
    bea = next(i for i in engagement.invitations if i.expert_id == people["bea"].id)
    async with signed_in(app, SAM) as sam:
        page = (await sam.get(f"/engagements/{engagement.id}")).text
    card = _card(page, ana.id)
    assert 'href="tel:+447123456789"' in card and "07123 456789" in card
    assert "Saturday and Sunday" in card
    assert "No safe time to call them comes before it starts" in card
    assert "Phone calls are not agreed" not in card
    assert "Written notice" in card
    card = _card(page, bea.id)
    assert 'href="tel:+447123456780"' in card
    assert "Phone calls are not agreed as safe for them" in card
    assert "No safe time to call them" not in card  # 9am to 8pm today is before 6pm


async def test_told_by_phone_keeps_the_note_and_can_be_undone(app: App) -> None:
    engagement, people = await _late_cancellation(app)
    bea = next(i for i in engagement.invitations if i.expert_id == people["bea"].id)
    path = f"/engagements/{engagement.id}"
    async with signed_in(app, SAM) as sam:
        told = await sam.post(f"{path}/told/{bea.id}", {"note": "Spoke to her; she won't travel"})
        assert told.status_code == 303
        page = (await sam.get(path)).text
        assert "Note: Spoke to her; she won&#39;t travel" in page
        assert f"{path}/told/{bea.id}/undo" in page
        call = next(t for t in await all_tasks(app) if t.expert_id == people["bea"].id)
        assert call.status is TaskStatus.DONE and call.outcome == "Spoke to her; she won't travel"

        undone = await sam.post(f"{path}/told/{bea.id}/undo")
        assert undone.status_code == 303
        page = (await sam.get(path)).text
        assert f'id="call-{bea.id}"' in page and f"{path}/told/{bea.id}/undo" not in page
    tasks = await all_tasks(app)
    call = next(t for t in tasks if t.kind is TaskKind.PHONE_CALL and t.expert_id == bea.expert_id)
    assert call.status is TaskStatus.OPEN and call.outcome is None
    venue = next(t for t in tasks if t.kind is TaskKind.VENUE_VISIT)
    assert venue.status is TaskStatus.OPEN


async def test_undo_after_everyone_was_told_puts_the_venue_visit_back(app: App) -> None:
    engagement, _ = await _late_cancellation(app)
    path = f"/engagements/{engagement.id}"
    async with signed_in(app, SAM) as sam:
        for i in engagement.invitations:
            assert (await sam.post(f"{path}/told/{i.id}")).status_code == 303
        venue = next(t for t in await all_tasks(app) if t.kind is TaskKind.VENUE_VISIT)
        assert venue.status is TaskStatus.DONE
        first = engagement.invitations[0]
        assert (await sam.post(f"{path}/told/{first.id}/undo")).status_code == 303
        again = await sam.post(f"{path}/told/{first.id}/undo")  # pressed twice: no harm
        assert again.status_code == 303
    venue = next(t for t in await all_tasks(app) if t.kind is TaskKind.VENUE_VISIT)
    assert venue.status is TaskStatus.OPEN


async def test_a_note_too_long_is_refused_and_nothing_is_recorded(app: App) -> None:
    engagement, people = await _late_cancellation(app)
    bea = next(i for i in engagement.invitations if i.expert_id == people["bea"].id)
    async with signed_in(app, SAM) as sam:
        refused = await sam.post(f"/engagements/{engagement.id}/told/{bea.id}", {"note": "x" * 301})
        assert refused.status_code == 400
        assert "The note must be 300 characters or fewer" in refused.text
    call = next(t for t in await all_tasks(app) if t.expert_id == people["bea"].id)
    assert call.status is TaskStatus.OPEN


async def test_only_their_own_worker_may_undo(app: App) -> None:
    engagement, people = await _late_cancellation(app)
    bea = next(i for i in engagement.invitations if i.expert_id == people["bea"].id)
    async with signed_in(app, SAM) as sam:
        await sam.post(f"/engagements/{engagement.id}/told/{bea.id}")
    async with signed_in(app, LEE) as lee:
        response = await lee.post(f"/engagements/{engagement.id}/told/{bea.id}/undo")
        assert response.status_code == 404
