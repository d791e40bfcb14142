"""The engagement page shows each planned message as it will really go: the channel, the
time after safe hours, the frequency cap and the post, and a warning for any too late;
the expert's page says when letters are held during an address change."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.bootstrap import App
from bot.services.experts import contact_changes as changes
from store.enums import Channel
from tests.builders import add_engagement, add_expert
from tests.staff_client import add_account, signed_in

SAM = "sam@example.org"
ADDRESS = "Flat 2; 8 Sample Road; Dundee DD1 1AA"


def _row(page: str, purpose: str) -> str:
    found = re.search(rf"<tr[^>]*>\s*<td[^>]*>(?:<a[^>]*>)?{purpose}(.*?)</tr>", page, re.S)
    assert found, f"no {purpose} row"
    return found.group(1)


async def test_the_plan_shows_the_real_send_time_after_their_safe_hours(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(
            app, session, windows=[{"days": "every day", "hours": "18:00-20:00"}]
        )
        engagement = await add_engagement(app, session, experts=[expert])
    async with signed_in(app, SAM) as sam:
        page = (await sam.get(f"/engagements/{engagement.id}")).text
    pre_brief = _row(page, "Pre-brief")
    assert "15 Jan 2026, 10:00" in pre_brief  # planned for
    assert "15 Jan 2026, 18:00" in pre_brief  # really goes, in their safe hours
    assert "Waits for their safe hours" in pre_brief
    assert "Text message" in pre_brief
    assert "Too late" not in page


async def test_a_message_that_would_come_too_late_is_flagged_before_it_happens(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(
            app,
            session,
            preferred_channel="letter",
            phone=None,
            postal_address=ADDRESS,
            consent={"letter": {"allowed": True}},
        )
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(days=2, hours=2)
        )
    async with signed_in(app, SAM) as sam:
        page = (await sam.get(f"/engagements/{engagement.id}")).text
    pre_brief = _row(page, "Pre-brief")
    assert "Too late" in pre_brief and "Nothing can reach them in time" in pre_brief
    assert "Some messages to" in page and "would come too late" in page


async def test_the_experts_page_says_letters_are_held_while_a_new_address_waits(
    app: App,
) -> None:
    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
        expert = await add_expert(
            app,
            session,
            preferred_channel="letter",
            phone=None,
            postal_address=ADDRESS,
            consent={"letter": {"allowed": True}},
        )
    async with signed_in(app, SAM) as client:
        asked = await client.post(
            f"/experts/{expert.id}/contact", {"postal_address": "3 New Street\nDundee DD2 2BB"}
        )
        assert asked.status_code == 303
        page = (await client.get(f"/experts/{expert.id}")).text
        assert "No letters are sent to them until a colleague confirms" in page
    async with app.sessions.begin() as session:
        waiting = await changes.waiting_changes(session, expert.id)
        assert [c.old_address_safe for c in waiting] == [False]
        await changes.reject_change(session, waiting[0], sam, now=app.clock.now(), actor="t")
    async with signed_in(app, SAM) as client:
        form = await client.get(f"/experts/{expert.id}/contact")
        assert "old address is still safe for letters" in form.text
        await client.post(
            f"/experts/{expert.id}/contact",
            {"postal_address": "3 New Street\nDundee DD2 2BB", "old_address_safe": "yes"},
        )
        page = (await client.get(f"/experts/{expert.id}")).text
        assert "Letters still go to the old address" in page
    async with app.sessions() as session:
        waiting = await changes.waiting_changes(session, expert.id)
    assert [(c.channel, c.old_address_safe) for c in waiting] == [(Channel.LETTER, True)]
