"""What a calendar invitation shows about who sent it, sent through a real SMTP conversation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from channels.base import OutgoingMessage
from channels.mail import EmailChannel, EmailConfig
from scheduling.sending.outgoing import calendar_for
from store.enums import Channel, Purpose, Role
from store.models import Engagement, Expert, Message, Staff
from tests.fakes.smtp import FakeSMTPServer

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
FROM = "notes@linkline.test"
WORK_EMAIL = "sam.taylor@womens-aid.example.org"


def _message(discreet: bool) -> Message:
    worker = Staff(id=1, name="Sam Taylor", email=WORK_EMAIL, role=Role.LINK_WORKER)
    expert = Expert(
        id=7,
        preferred_name="Ana",
        time_zone="Europe/London",
        preferred_channel=Channel.EMAIL,
        discreet=discreet,
        link_worker=worker,
    )
    engagement = Engagement(
        id=3,
        title="Survivors' panel",
        starts_at=datetime(2026, 6, 2, 9, 30, tzinfo=UTC),
        ends_at=datetime(2026, 6, 2, 11, 0, tzinfo=UTC),
        venue_name="Women's Aid office",
        sequence=0,
    )
    return Message(
        id=11,
        expert_id=7,
        expert=expert,
        engagement=engagement,
        purpose=Purpose.PRE_BRIEF,
        idempotency_key="eng3:exp7:pre_brief",
    )


@pytest.fixture
def server() -> Iterator[FakeSMTPServer]:
    fake = FakeSMTPServer().start()
    try:
        yield fake
    finally:
        fake.stop()


async def _sent_invite(server: FakeSMTPServer, details: bool) -> str:
    message = _message(discreet=not details)
    event = calendar_for(message, details, NOW)
    assert event is not None
    config = EmailConfig(host=server.host, port=server.port, from_address=FROM, start_tls=False)
    outgoing = OutgoingMessage(
        idempotency_key=message.idempotency_key,
        channel=Channel.EMAIL,
        to="ana@example.net",
        body="Hi Ana, see you on Tuesday. Sam",
        subject="A note from Sam",
        recipient_name="Ana",
        sender_name="Sam",
        calendar=event,
    )
    await EmailChannel(config, clock=lambda: NOW).send(outgoing)
    (delivery,) = server.deliveries()
    (part,) = (p for p in delivery.message.walk() if p.get_content_type() == "text/calendar")
    return str(part.get_content())


async def test_a_discreet_invite_names_no_worker_and_no_work_address(
    server: FakeSMTPServer,
) -> None:
    ics = await _sent_invite(server, details=False)
    unfolded = ics.replace("\r\n ", "").replace("\n ", "")
    assert "Taylor" not in unfolded and WORK_EMAIL not in unfolded
    assert "Survivors" not in unfolded and "Women's Aid" not in unfolded
    organizer = next(line for line in unfolded.splitlines() if line.startswith("ORGANIZER"))
    assert "CN=Sam" in organizer and f"mailto:{FROM}" in organizer.lower()


async def test_with_details_the_invite_comes_from_the_worker(server: FakeSMTPServer) -> None:
    ics = await _sent_invite(server, details=True)
    unfolded = ics.replace("\r\n ", "").replace("\n ", "")
    organizer = next(line for line in unfolded.splitlines() if line.startswith("ORGANIZER"))
    assert "Sam Taylor" in organizer and WORK_EMAIL in organizer.lower()
