"""Channel health: live or dry-run, recent sends and failures, the last error without
personal data, and each day's counts as a chart with the same numbers in a table."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.bootstrap import App
from store.enums import AttemptOutcome, Channel, Role
from store.models import DeliveryAttempt
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"


async def _sent_and_failed(app: App) -> None:
    """Ana's pre-brief goes out on the dry-run text channel; an hour later an earlier try of
    her reminder failed at the provider, with a phone number in the error."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Admin", email=ADMIN, role=Role.ADMIN)
        await add_account(app, session)
        ana = await add_expert(app, session, ref="EX-1")
        await add_engagement(app, session, experts=[ana])
    first, second = (await outbox(app))[:2]
    app.clock.set(first.due_at)  # type: ignore[attr-defined]
    assert await app.dispatcher().run_until_idle() == 1
    app.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    async with app.sessions.begin() as session:
        session.add(
            DeliveryAttempt(
                message_id=second.id,
                channel=Channel.SMS,
                router_reason="sms",
                outcome=AttemptOutcome.PERMANENT_FAILURE,
                error="Twilio refused the message: +44 7700 900123 is not a mobile number",
                worker="test",
                started_at=app.clock.now(),
                finished_at=app.clock.now(),
            )
        )


async def test_each_channel_shows_its_mode_recent_counts_and_last_error(app: App) -> None:
    await _sent_and_failed(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get("/admin/channels")
    assert page.status_code == 200
    text = page.text
    sms = text.split("Text message (SMS)")[1].split("govuk-summary-card__title-wrapper")[0]
    assert "Dry run: nothing really sent" in sms  # no Twilio settings in tests
    assert "15 Jan 2026, 10:00" in sms  # the last send that worked
    assert sms.count("1 sent, 1 failed (50% failed)") == 2  # the last day and the last week
    assert "Twilio refused the message: [number hidden] is not a mobile number" in sms
    assert "7700" not in text
    email = text.split(">\n      Email\n")[1].split("govuk-summary-card__title-wrapper")[0]
    assert "Never" in email and email.count("Nothing tried") == 2
    assert "Live" in text.split("Phone call")[1]  # calls are tasks for people


async def test_the_chart_is_inline_svg_with_patterns_and_the_same_numbers_in_a_table(
    app: App,
) -> None:
    await _sent_and_failed(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get("/admin/channels")
    text = page.text
    assert text.count("<svg xmlns") == 1  # one chart: only the text channel was tried
    svg = text[text.index("<svg xmlns") : text.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="chart-sms-title chart-sms-desc"' in svg
    assert "Text message (SMS): sent, delivered and failed each day" in svg
    assert "In all: 1 sent, 0 delivered, 1 failed." in svg
    assert 'fill="url(#chart-sms-fill-2)"' in svg and "<pattern" in svg
    assert "<title>15: 1 sent</title>" in svg and "<title>15: 1 failed</title>" in svg
    assert "style=" not in svg and "<script" not in text.split("</svg>")[0].split("<svg")[1]
    table = text[text.index("Text message (SMS): each day’s numbers") :]
    table = table[: table.index("</table>")]
    assert len(re.findall(r'<th scope="row"', table)) == 14
    row = table[table.index("Thu 15 Jan") :].split("</tr>")[0]
    assert re.findall(r">\s*(\d+)\s*<", row) == ["1", "0", "1"]


async def test_the_channels_page_is_not_found_for_a_link_worker(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get("/admin/channels")
    assert page.status_code == 404 and "Page not found" in page.text


async def _failing_email(app: App, failures: int) -> None:
    """Two emails accepted, then ``failures`` tries refused by a dead mail server."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Admin", email=ADMIN, role=Role.ADMIN)
        await add_account(app, session)
        ana = await add_expert(app, session, ref="EX-1")
        await add_engagement(app, session, experts=[ana])
    message = (await outbox(app))[0]
    async with app.sessions.begin() as session:
        for n in range(2 + failures):
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    channel=Channel.EMAIL,
                    router_reason="email",
                    outcome=AttemptOutcome.ACCEPTED if n < 2 else AttemptOutcome.TRANSIENT_FAILURE,
                    error=None if n < 2 else "Could not connect to the mail server",
                    worker="test",
                    started_at=app.clock.now() - timedelta(minutes=10 * n),
                    finished_at=app.clock.now(),
                )
            )


async def test_a_channel_failing_most_tries_says_failing_and_needs_attention(app: App) -> None:
    await _failing_email(app, failures=4)
    async with signed_in(app, ADMIN) as admin:
        channels = (await admin.get("/admin/channels")).text
        attention = (await admin.get("/admin/attention")).text
    email = channels.split(">\n      Email\n")[1].split("govuk-summary-card__title-wrapper")[0]
    assert "Failing" in email and "66.7% of its tries in the last 24 hours failed" in email
    assert "from 50%" in email and ">\n    Live\n" not in email
    assert "Channels failing (1)" in attention
    assert "66.7% of its 6 tries" in attention and "Could not connect" in attention
    assert 'href="/admin/delivery?channel=email&amp;status=failed"' in attention
    assert "Nothing needs you here" not in attention


async def test_a_single_failure_is_not_yet_failing(app: App) -> None:
    await _failing_email(app, failures=0)
    async with signed_in(app, ADMIN) as admin:
        attention = (await admin.get("/admin/attention")).text
    assert "Channels failing" not in attention and "Nothing needs you here" in attention


async def test_the_weeks_counts_link_to_the_same_messages_in_the_log(app: App) -> None:
    await _sent_and_failed(app)
    async with signed_in(app, ADMIN) as admin:
        channels = (await admin.get("/admin/channels")).text
        links = re.findall(
            r'href="(/admin/delivery\?(?:channel=sms&amp;)?status=(\w+)&amp;from=[\d-]+)">'
            r"<span[^>]*>(\d+)</span>",
            channels,
        )
        assert {status for _, status, _ in links} == {"pending", "sent", "delivered", "failed"}
        for href, _status, count in links:
            log = (await admin.get(href.replace("&amp;", "&"))).text
            shown = re.search(r"(\d+) messages?", log)
            found = int(shown.group(1)) if shown and "No messages match" not in log else 0
            assert found == int(count), href
