"""Seeing what will really happen before it does: the expert page lists what is coming up
with the same times and words as the engagement page, and the preview shows the exact
text per channel (a text's length and parts, the email as sent, the letter's first page)
to the expert's own link worker only."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.bootstrap import App
from store.enums import MessageStatus, Purpose, Role
from store.models import Message
from tests.builders import add_engagement, add_expert
from tests.staff_client import add_account, signed_in

SAM, ADA = "sam@example.org", "ada@example.org"
ADDRESS = "Flat 2; 8 Sample Road; Dundee DD1 1AA"


def _preview_links(page: str) -> list[str]:
    return re.findall(r'href="(/messages/\d+/preview)"', page)


async def test_the_same_message_reads_the_same_on_the_engagement_and_expert_pages(
    app: App,
) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(
            app, session, windows=[{"days": "every day", "hours": "18:00-20:00"}]
        )
        engagement = await add_engagement(app, session, experts=[expert])
    async with signed_in(app, SAM) as sam:
        on_engagement = (await sam.get(f"/engagements/{engagement.id}")).text
        on_expert = (await sam.get(f"/experts/{expert.id}")).text
    for page in (on_engagement, on_expert):
        assert "15 Jan 2026, 18:00" in page  # after their safe hours, on both pages
        assert "Waits for their safe hours" in page
        assert re.search(r"govuk-tag[^>]*>\s*Waiting\s*<", page)  # the delivery log's word
        assert not re.search(r"govuk-tag[^>]*>\s*Planned\s*<", page)
    assert "Messages coming up" in on_expert
    assert _preview_links(on_expert) and set(_preview_links(on_expert)) <= set(
        _preview_links(on_engagement)
    )


async def test_a_text_message_preview_counts_characters_and_parts(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(app, session, preferred_name="Ana Long")
        engagement = await add_engagement(app, session, experts=[expert])
    async with signed_in(app, SAM) as sam:
        page = (await sam.get(f"/engagements/{engagement.id}")).text
        preview = await sam.get(_preview_links(page)[0])
    assert preview.status_code == 200
    text = preview.text
    assert "Pre-brief" in text and "Ana Long" in text
    assert re.search(r"\d+ characters: [1-9] text message", text)
    assert 'id="message-text"' in text and "Sam" in text  # signed by their link worker


async def test_the_email_preview_shows_it_as_sent_and_the_letter_as_a_picture(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(
            app,
            session,
            preferred_channel="email",
            fallback_channels=["letter"],
            email="ana@example.net",
            postal_address=ADDRESS,
            consent={"email": {"allowed": True}, "letter": {"allowed": True}},
        )
        engagement = await add_engagement(app, session, experts=[expert])
    async with signed_in(app, SAM) as sam:
        page = (await sam.get(f"/engagements/{engagement.id}")).text
        link = _preview_links(page)[0]
        email = (await sam.get(link)).text
        letter = (await sam.get(f"{link}?channel=letter")).text
        png = await sam.get(f"{link}/letter.png")
        pdf = await sam.get(f"{link}/letter.pdf")
    assert "ana@example.net" in email and "Subject" in email and "From" in email
    assert "A calendar invitation" in email
    assert f'src="{link}/letter.png"' in letter and "Open the whole letter" in letter
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert png.headers["cache-control"] == "no-store"
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_only_their_own_link_worker_reads_the_text(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Ada Admin", email=ADA, role=Role.ADMIN)
        await add_account(app, session, name="Lee Park", email="lee@example.org")
        expert = await add_expert(
            app,
            session,
            preferred_channel="letter",
            phone=None,
            postal_address=ADDRESS,
            consent={"letter": {"allowed": True}},
        )
        engagement = await add_engagement(app, session, experts=[expert])
    async with signed_in(app, SAM) as sam:
        link = _preview_links((await sam.get(f"/engagements/{engagement.id}")).text)[0]
    async with signed_in(app, ADA) as ada:
        page = await ada.get(link)
        png = await ada.get(f"{link}/letter.png")
    assert page.status_code == 200 and "Only their link worker" in page.text
    assert 'id="message-text"' not in page.text
    assert png.status_code == 404
    async with signed_in(app, "lee@example.org") as lee:
        assert (await lee.get(link)).status_code == 404
    async with signed_in(app, SAM) as sam:
        assert (await sam.get("/messages/999999/preview")).status_code == 404
        assert (await sam.get("/messages/nonsense/preview")).status_code in (404, 422)


async def test_publishing_eleven_hours_ahead_warns_before_the_button(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(app, session)
        soon = await add_engagement(
            app, session, experts=[expert], publish=False, starts_in=timedelta(hours=11)
        )
        later = await add_engagement(app, session, experts=[expert], publish=False)
    async with signed_in(app, SAM) as sam:
        page = (await sam.get(f"/engagements/{soon.id}")).text
        calm = (await sam.get(f"/engagements/{later.id}")).text
    warning = page[page.index('id="too-soon"') : page.index("Publish anyway")]
    assert "too soon for the whole contact plan" in warning
    assert "reminder (1 day before) cannot happen" in warning
    assert 'id="too-soon"' not in calm and "Publish anyway" not in calm


async def test_a_text_too_long_for_its_channel_is_said_before_it_goes(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        expert = await add_expert(app, session)
        due = app.clock.now() + timedelta(days=1)
        message = Message(
            expert_id=expert.id,
            purpose=Purpose.PASTORAL,
            idempotency_key="long-note",
            due_at=due,
            next_attempt_at=due,
            status=MessageStatus.PENDING,
            personal_note="Thinking of you. " * 40,
            created_at=due,
            updated_at=due,
        )
        session.add(message)
    async with signed_in(app, SAM) as sam:
        coming = (await sam.get(f"/experts/{expert.id}")).text
        page = await sam.get(f"/messages/{message.id}/preview")
    assert f'href="/messages/{message.id}/preview"' in coming
    assert page.status_code == 200
    assert "more than the 480 this channel takes" in page.text
    assert 'id="message-text"' not in page.text
