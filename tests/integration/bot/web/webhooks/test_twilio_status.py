"""Twilio status callbacks over real HTTP into the web app: only signed news is believed,
and it moves a text forward, back for another try, or on to the next channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.bootstrap import App, build_app
from bot.web.app import create_web_app
from bot.web.webhooks.twilio_status import PATH
from channels.dryrun import DryRunChannel
from channels.registry import DEFAULT_LIMITS, SENDABLE, ChannelRegistry
from channels.sms import SmsChannel, SmsConfig
from scheduling.clock import SimulatedClock
from store.enums import AttemptOutcome, Channel, MessageStatus, TaskKind
from store.models import ContactPoint, DeliveryAttempt, Message, Task
from tests.builders import add_engagement, add_expert
from tests.conftest import make_settings
from tests.fakes.twilio import FakeTwilio

PUBLIC = "https://linkline.example.org"
CALLBACK_URL = PUBLIC + PATH


@dataclass
class World:
    app: App
    fake: FakeTwilio
    client: httpx.AsyncClient
    clock: SimulatedClock

    async def post(self, sid: str, status: str, code: int | None = None) -> httpx.Response:
        form, headers = self.fake.signed_callback(CALLBACK_URL, sid, status, code)
        return await self.client.post(PATH, data=form, headers=headers)


@pytest.fixture
async def world(tmp_path: Path, sqlite_url: str, clock: SimulatedClock) -> AsyncIterator[World]:
    fake = await FakeTwilio().start()
    config = make_settings(
        tmp_path, sqlite_url, public_url=PUBLIC, twilio_auth_token=fake.auth_token
    )
    app = await build_app(config, clock=clock, upgrade=True)
    sms = SmsChannel(
        SmsConfig(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+447700900000",
            status_callback_url=CALLBACK_URL,
            api_base_url=fake.url,
        ),
        now=clock.now,
    )
    outbox = config.resolved_outbox_dir
    others = [
        DryRunChannel(k, outbox / k.value, DEFAULT_LIMITS[k], postal_tz="Europe/London")
        for k in SENDABLE
    ]
    app.channels = ChannelRegistry([*(c for c in others if c.kind is not Channel.SMS), sms])
    web = create_web_app(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://testserver"
    ) as client:
        try:
            yield World(app, fake, client, clock)
        finally:
            await app.aclose()
            await fake.close()


async def _sent_text(world: World) -> Message:
    """An expert who prefers texts, with email as a fallback, and their pre-brief sent."""
    app = world.app
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            fallback_channels="email",
            email="ana@example.net",
            consent={"sms": {"allowed": True}, "email": {"allowed": True}},
        )
        await add_engagement(app, session, experts=[expert])
    first = (await _messages(world))[0]
    world.clock.set(first.due_at)
    await app.dispatcher().run_until_idle()
    message = await _message(world, first.id)
    assert message.status is MessageStatus.SENT and message.channel is Channel.SMS
    return message


async def _messages(world: World) -> list[Message]:
    async with world.app.sessions() as session:
        return list(await session.scalars(select(Message).order_by(Message.due_at, Message.id)))


async def _message(world: World, message_id: int) -> Message:
    async with world.app.sessions() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def _attempts(world: World, message_id: int) -> list[DeliveryAttempt]:
    async with world.app.sessions() as session:
        query = select(DeliveryAttempt).where(DeliveryAttempt.message_id == message_id)
        return list(await session.scalars(query.order_by(DeliveryAttempt.id)))


async def _sms_point(world: World) -> ContactPoint:
    async with world.app.sessions() as session:
        query = select(ContactPoint).where(ContactPoint.channel == Channel.SMS)
        point = await session.scalar(query)
        assert point is not None
        return point


async def test_the_whole_road_from_dispatch_to_delivered(world: World) -> None:
    message = await _sent_text(world)
    (sms,) = world.fake.ledger
    assert sms.status_callback == CALLBACK_URL
    assert message.provider_id == sms.sid
    for status in ("sent", "delivered"):
        assert (await world.post(sms.sid, status)).status_code == 204
    message = await _message(world, message.id)
    assert message.status is MessageStatus.DELIVERED
    (attempt,) = await _attempts(world, message.id)
    assert attempt.provider_id == sms.sid and attempt.provider_status == "delivered"


async def test_a_forged_signature_changes_nothing(world: World) -> None:
    message = await _sent_text(world)
    form, _ = world.fake.signed_callback(CALLBACK_URL, message.provider_id or "", "delivered")
    forged = {"X-Twilio-Signature": "bm90IGEgcmVhbCBzaWduYXR1cmU="}
    assert (await world.client.post(PATH, data=form, headers=forged)).status_code == 403
    assert (await world.client.post(PATH, data=form)).status_code == 403
    assert (await _message(world, message.id)).status is MessageStatus.SENT


async def test_a_signature_for_another_url_is_refused(world: World) -> None:
    message = await _sent_text(world)
    other = "https://attacker.example.com" + PATH
    form, headers = world.fake.signed_callback(other, message.provider_id or "", "delivered")
    assert (await world.client.post(PATH, data=form, headers=headers)).status_code == 403
    assert (await _message(world, message.id)).status is MessageStatus.SENT


async def test_signed_but_incomplete_or_malformed_bodies_are_4xx(world: World) -> None:
    message = await _sent_text(world)
    form = {"MessageStatus": "delivered"}  # no MessageSid, but properly signed
    signed = RequestValidator(world.fake.auth_token).compute_signature(CALLBACK_URL, form)
    sig = {"X-Twilio-Signature": signed}
    assert (await world.client.post(PATH, data=form, headers=sig)).status_code == 400
    bodies = [
        (b"\xff\xfe not utf-8", "application/x-www-form-urlencoded", 400),
        (b"no-equals-sign&&", "application/x-www-form-urlencoded", 400),
        (b'{"MessageSid": "SM1"}', "application/json", 415),
        (b"a=" + b"x" * 20_000, "application/x-www-form-urlencoded", 413),
    ]
    for body, kind, expected in bodies:
        response = await world.client.post(
            PATH, content=body, headers={**sig, "Content-Type": kind}
        )
        assert response.status_code == expected, body[:20]
    assert (await _message(world, message.id)).status is MessageStatus.SENT


async def test_without_public_url_or_token_nothing_is_believed(world: World) -> None:
    message = await _sent_text(world)
    world.app.settings.public_url = None
    assert (await world.post(message.provider_id or "", "delivered")).status_code == 403
    world.app.settings.public_url, world.app.settings.twilio_auth_token = PUBLIC, None
    assert (await world.post(message.provider_id or "", "delivered")).status_code == 403
    assert (await _message(world, message.id)).status is MessageStatus.SENT


async def test_an_unknown_sid_is_acknowledged_and_ignored(world: World) -> None:
    message = await _sent_text(world)
    assert (await world.post("SM" + "f" * 32, "delivered")).status_code == 204
    assert (await _message(world, message.id)).status is MessageStatus.SENT


async def test_a_late_sent_never_undoes_delivered(world: World) -> None:
    message = await _sent_text(world)
    sid = message.provider_id or ""
    await world.post(sid, "delivered")
    await world.post(sid, "sent")
    await world.post(sid, "undelivered", 30003)
    assert (await _message(world, message.id)).status is MessageStatus.DELIVERED
    (attempt,) = await _attempts(world, message.id)
    assert attempt.provider_status == "delivered"


async def test_a_phone_out_of_signal_gets_another_try_later(world: World) -> None:
    message = await _sent_text(world)
    assert (await world.post(message.provider_id or "", "undelivered", 30003)).status_code == 204
    again = await _message(world, message.id)
    assert again.status is MessageStatus.PENDING
    assert again.next_attempt_at == world.clock.now() + timedelta(minutes=15)
    (attempt,) = await _attempts(world, message.id)
    assert attempt.outcome is AttemptOutcome.TRANSIENT_FAILURE and "30003" in (attempt.error or "")
    world.clock.advance(timedelta(minutes=15))
    await world.app.dispatcher().run_until_idle()
    assert len(world.fake.ledger) == 2  # the second try went out as a text again
    assert (await _message(world, message.id)).status is MessageStatus.SENT


async def test_after_three_retries_a_person_is_asked(world: World) -> None:
    message = await _sent_text(world)
    for _ in range(3):
        await world.post((await _message(world, message.id)).provider_id or "", "failed", 30008)
        world.clock.advance(timedelta(minutes=15))
        await world.app.dispatcher().run_until_idle()
    await world.post((await _message(world, message.id)).provider_id or "", "failed", 30008)
    assert (await _message(world, message.id)).status is MessageStatus.FAILED
    assert len(world.fake.ledger) == 4
    async with world.app.sessions() as session:
        tasks = list(await session.scalars(select(Task)))
    assert [t.kind for t in tasks] == [TaskKind.DELIVERY_PROBLEM]


async def test_stop_opts_the_number_out_and_reroutes(world: World) -> None:
    message = await _sent_text(world)
    assert (await world.post(message.provider_id or "", "failed", 21610)).status_code == 204
    point = await _sms_point(world)
    assert point.opted_out_at is not None and point.opt_out_reason == "replied STOP"
    assert (await _message(world, message.id)).status is MessageStatus.PENDING
    await world.app.dispatcher().run_until_idle()
    rerouted = await _message(world, message.id)
    assert rerouted.status is MessageStatus.SENT and rerouted.channel is Channel.EMAIL
    assert len(world.fake.ledger) == 1  # no second text


async def test_an_unreachable_number_is_marked_and_rerouted(world: World) -> None:
    message = await _sent_text(world)
    await world.post(message.provider_id or "", "undelivered", 30005)
    assert (await _sms_point(world)).opt_out_reason == "number unreachable"
    await world.app.dispatcher().run_until_idle()
    assert (await _message(world, message.id)).channel is Channel.EMAIL


_KEYS = st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "AccountSid", "x", ""])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.dictionaries(st.one_of(_KEYS, st.text(max_size=12)), st.text(max_size=40)),
    signature=st.one_of(
        st.none(),
        st.just(""),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    ),
)
async def test_random_unsigned_forms_are_always_refused(
    world: World, form: dict[str, str], signature: str | None
) -> None:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    response = await world.client.post(PATH, data=form, headers=headers)
    assert 400 <= response.status_code < 500
    async with world.app.sessions() as session:
        assert await session.scalar(select(DeliveryAttempt)) is None
        assert await session.scalar(select(ContactPoint.opted_out_at)) is None
