"""What the SMS adapter promises beyond the shared contract: plain typography, honest
segment counts, a validity period that ends with the safe window, and each Twilio
refusal mapped to the right next step."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from channels.base import OutgoingMessage, PermanentError, Sought, TransientError
from channels.sms import CREDENTIALS_HINT, SendOutcomeUnknown, SmsChannel, SmsConfig, segments
from scheduling.clock import SimulatedClock
from store.enums import Channel
from tests.fakes.twilio import Callback, FakeTwilio

TO = "+447123456789"
CALLBACK = "https://linkline.example.org/webhooks/twilio/status"


@pytest.fixture
async def fake(clock: SimulatedClock) -> AsyncIterator[FakeTwilio]:
    server = await FakeTwilio(now=clock.now).start()
    yield server
    await server.close()


def _config(fake: FakeTwilio, **overrides: object) -> SmsConfig:
    config = SmsConfig(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+447700900000",
        status_callback_url=CALLBACK,
        api_base_url=fake.url,
        lookup_wait=0.0,
    )
    return replace(config, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def sms(fake: FakeTwilio, clock: SimulatedClock) -> AsyncIterator[SmsChannel]:
    channel = SmsChannel(_config(fake), now=clock.now)
    yield channel
    await channel.aclose()


def _message(
    clock: SimulatedClock, body: str = "Hi Ana, it's Sam.", **kw: object
) -> OutgoingMessage:
    fields: dict[str, object] = {"deliver_before": clock.now() + timedelta(hours=2)}
    fields.update(kw)
    return OutgoingMessage(
        idempotency_key="eng1:exp1:reminder", channel=Channel.SMS, to=TO, body=body, **fields
    )  # type: ignore[arg-type]


async def test_curly_quotes_dashes_and_ellipsis_go_out_plain(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    await sms.send(_message(clock, "It\u2019s \u201cfine\u201d \u2013 really\u2026 \u2014 Sam"))
    (got,) = fake.ledger
    assert got.body == 'It\'s "fine" - really... - Sam'
    assert segments(got.body) == ("GSM-7", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # the euro sign is an escape pair: 2 septets
        ("a" * 159 + "€", ("GSM-7", 2)),
        ("a" * 152 + "€" + "a" * 152, ("GSM-7", 3)),  # an escape pair is never split
        ("Fàilte, cò às a tha thu? Tha mi ùr, èibhinn", ("GSM-7", 1)),  # lower-case grave vowels
        ("À bientôt", ("UCS-2", 1)),  # capital A-grave is not in GSM-7
        ("a" * 68 + "🙂", ("UCS-2", 1)),  # an emoji is two UTF-16 units: 70 in all
        ("a" * 69 + "🙂", ("UCS-2", 2)),
        ("a" * 134 + "🙂", ("UCS-2", 3)),  # the pair does not fit the end of segment two
        ("ŵ" * 134, ("UCS-2", 2)),  # Welsh w-circumflex: 67 per segment when split
        ("", ("GSM-7", 1)),
    ],
)
def test_segment_counting(text: str, expected: tuple[str, int]) -> None:
    assert segments(text) == expected


async def test_validity_period_is_the_time_left_in_the_safe_window(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    await sms.send(_message(clock, deliver_before=clock.now() + timedelta(minutes=95)))
    await sms.send(_message(clock, deliver_before=clock.now() + timedelta(hours=30)))
    await sms.send(_message(clock, deliver_before=None))
    assert [m.validity_period for m in fake.ledger] == ["5700", "36000", None]


async def test_a_passed_deadline_sends_nothing(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    with pytest.raises(TransientError):
        await sms.send(_message(clock, deliver_before=clock.now() - timedelta(seconds=1)))
    with pytest.raises(TransientError):
        await sms.send(_message(clock, deliver_before=clock.now()))
    assert fake.requests_seen == 0 and fake.ledger == []


async def test_the_status_callback_and_sender_are_sent(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    receipt = await sms.send(_message(clock))
    (got,) = fake.ledger
    assert got.status_callback == CALLBACK
    assert got.from_ == "+447700900000" and got.to == TO
    assert receipt.provider_id == got.sid and receipt.status == "queued"


@pytest.mark.parametrize("code", [21211, 21614, 21612, 21635])
async def test_a_number_that_cannot_get_texts_is_marked_and_never_tried_again(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock, code: int
) -> None:
    fake.fail_next(400, code)
    with pytest.raises(PermanentError) as caught:
        await sms.send(_message(clock))
    assert caught.value.opt_out_reason == "the number cannot get texts"
    assert str(code) in caught.value.detail
    _no_personal_data(caught.value.detail)


@pytest.mark.parametrize(("code", "hint"), [(21408, "enable sending"), (21608, "trial")])
async def test_our_own_account_limits_wait_for_a_fix_instead_of_falling_back(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock, code: int, hint: str
) -> None:
    fake.fail_next(400, code)
    with pytest.raises(TransientError) as caught:
        await sms.send(_message(clock))
    assert hint in caught.value.detail


async def test_stop_is_an_opt_out(sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock) -> None:
    fake.fail_next(400, 21610, message="Attempt to send to unsubscribed recipient")
    with pytest.raises(PermanentError) as caught:
        await sms.send(_message(clock))
    assert caught.value.opt_out_reason == "replied STOP to texts"


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "wait"),
    [
        (429, 20429, "30", timedelta(seconds=30)),
        (429, 20429, None, None),
        (503, 20503, None, None),
        (503, None, "2", timedelta(seconds=2)),
    ],
)
async def test_busy_or_down_is_transient_and_honours_retry_after(
    sms: SmsChannel,
    fake: FakeTwilio,
    clock: SimulatedClock,
    status: int,
    code: int | None,
    retry_after: str | None,
    wait: timedelta | None,
) -> None:
    fake.fail_next(status, code, retry_after=retry_after)
    with pytest.raises(TransientError) as caught:
        await sms.send(_message(clock))
    assert caught.value.retry_after == wait


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (502, None)])
async def test_a_server_error_twilio_did_not_keep_may_be_tried_again(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock, status: int, code: int | None
) -> None:
    """Twilio failed and its message list, asked after the wait, has no copy: conclusive."""
    fake.fail_next(status, code)
    with pytest.raises(TransientError) as caught:
        await sms.send(_message(clock))
    assert "no copy" in caught.value.detail
    assert fake.list_requests == 2 and fake.ledger == []
    _no_personal_data(caught.value.detail)


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (502, None), (504, None)])
async def test_a_server_error_after_twilio_kept_the_text_is_sent(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock, status: int, code: int | None
) -> None:
    """The review's M-2: Twilio stored the text, then answered 5xx. The list finds it."""
    fake.fail_after_storing_next(status, code)
    receipt = await sms.send(_message(clock))
    (kept,) = fake.ledger
    assert receipt.provider_id == kept.sid


async def test_a_gateway_timeout_with_nothing_listed_stays_uncertain(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    """After a 504 Twilio may still be working on the POST: finding nothing proves nothing."""
    fake.fail_next(504)
    with pytest.raises(SendOutcomeUnknown) as caught:
        await sms.send(_message(clock))
    assert not isinstance(caught.value, TransientError | PermanentError)
    _no_personal_data(caught.value.detail)


async def test_a_server_error_whose_lookup_fails_stays_uncertain(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    fake.fail_next(500, 20500)
    fake.fail_list_next(503)
    with pytest.raises(SendOutcomeUnknown):
        await sms.send(_message(clock))
    assert fake.ledger == []


async def test_the_lookup_matches_body_number_and_time_only(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    """Another text to the number, the same text to another number, or the same text
    before the attempt began is not ours."""
    await sms.send(_message(clock, body="Something else"))
    await sms.send(replace(_message(clock), to="+447000000001"))
    await sms.send(_message(clock))
    clock.advance(timedelta(hours=1))
    sought = Sought("eng1:exp1:reminder", TO, "Hi Ana, it's Sam.", clock.now())
    assert await sms.search(sought) is None
    await sms.send(_message(clock))
    found = await sms.search(sought)
    assert found is not None and found.provider_id == fake.ledger[-1].sid


async def test_a_text_still_in_twilio_s_queue_is_found_without_a_date_sent(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    """Queued texts have no DateSent, so the DateSent filter misses them: the most recent
    texts to the number are read too."""
    fake.queue_texts = True
    fake.fail_after_storing_next(500, 20500)
    receipt = await sms.send(_message(clock))
    assert receipt.provider_id == fake.ledger[0].sid and len(fake.ledger) == 1


async def test_an_unreadable_bad_gateway_page_is_uncertain_until_looked_up(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    fake.garbage_next(status=504)
    with pytest.raises(SendOutcomeUnknown):
        await sms.send(_message(clock))
    fake.garbage_next(status=502)
    with pytest.raises(TransientError):  # answered, and Twilio has no copy
        await sms.send(_message(clock))


def test_twilio_s_internal_error_code_is_uncertain_whatever_the_status() -> None:
    from channels.sms import _map_twilio_error

    assert isinstance(_map_twilio_error(500, 20500), SendOutcomeUnknown)
    assert isinstance(_map_twilio_error(400, 20500), SendOutcomeUnknown)


@pytest.mark.parametrize("code", [21617, 21602, 21606])
async def test_a_message_twilio_will_never_take_is_permanent(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock, code: int
) -> None:
    """Body too long, body missing, no way to send from our number: retrying cannot help."""
    fake.fail_next(400, code)
    with pytest.raises(PermanentError) as caught:
        await sms.send(_message(clock))
    assert caught.value.opt_out_reason is None
    assert str(code) in caught.value.detail
    _no_personal_data(caught.value.detail)


@pytest.mark.parametrize("code", [21611, 14107])
async def test_a_full_queue_is_transient(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock, code: int
) -> None:
    fake.fail_next(400, code)
    with pytest.raises(TransientError):
        await sms.send(_message(clock))


async def test_an_unreadable_error_page_is_transient(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    fake.garbage_next(status=503)
    with pytest.raises(TransientError):
        await sms.send(_message(clock))
    fake.garbage_next(status=400)
    with pytest.raises(TransientError):
        await sms.send(_message(clock))


async def test_an_unreadable_success_is_not_retried_blindly(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    """A 2xx may mean Twilio took it: retrying could text twice, so a person checks."""
    fake.garbage_next(status=201)
    with pytest.raises(SendOutcomeUnknown) as caught:
        await sms.send(_message(clock))
    assert not isinstance(caught.value, TransientError | PermanentError)


async def test_a_timeout_after_twilio_took_the_text_is_found_and_sent(
    fake: FakeTwilio, clock: SimulatedClock
) -> None:
    """Twilio took the text and then went quiet: our own timeout ends the wait, and the
    message list says it went (the review's L-5 and its "3 had in fact arrived")."""
    channel = SmsChannel(_config(fake, request_timeout=0.3), now=clock.now)
    fake.delay_next(5.0)
    started = time.monotonic()
    try:
        receipt = await asyncio.wait_for(channel.send(_message(clock)), 4.0)
    finally:
        await channel.aclose()
    assert time.monotonic() - started < 3.5  # our 0.3 s timeout, not the fake's 5 s delay
    (kept,) = fake.ledger  # it reached Twilio once, and was not sent again
    assert receipt.provider_id == kept.sid


async def test_a_hung_twilio_never_holds_send_beyond_the_request_timeout(
    fake: FakeTwilio, clock: SimulatedClock
) -> None:
    """Twilio's SDK passes timeout=None, which alone would mean "wait for ever"."""
    channel = SmsChannel(_config(fake, request_timeout=0.3), now=clock.now)
    fake.fail_next(201, delay=5.0)
    started = time.monotonic()
    try:
        with pytest.raises(SendOutcomeUnknown):
            await asyncio.wait_for(channel.send(_message(clock)), 4.0)
    finally:
        await channel.aclose()
    assert time.monotonic() - started < 3.5  # our 0.3 s timeout, not the fake's 5 s delay


async def test_an_unreachable_api_is_transient(clock: SimulatedClock) -> None:
    closed = await FakeTwilio().start()
    await closed.close()  # the port is now refused: nothing can have been sent
    channel = SmsChannel(_config(closed), now=clock.now)
    try:
        with pytest.raises(TransientError):
            await channel.send(_message(clock))
    finally:
        await channel.aclose()


async def test_bad_credentials_wait_for_a_fix(fake: FakeTwilio, clock: SimulatedClock) -> None:
    channel = SmsChannel(_config(fake, auth_token="wrong"), now=clock.now)
    try:
        with pytest.raises(TransientError) as caught:
            await channel.send(_message(clock))
    finally:
        await channel.aclose()
    assert caught.value.detail == CREDENTIALS_HINT
    assert fake.ledger == []


async def test_the_token_never_shows_in_repr(fake: FakeTwilio) -> None:
    assert fake.auth_token not in repr(_config(fake))


async def test_close_then_send_again_opens_a_new_session(
    sms: SmsChannel, fake: FakeTwilio, clock: SimulatedClock
) -> None:
    await sms.send(_message(clock))
    await sms.aclose()
    await sms.send(_message(clock))
    assert len(fake.ledger) == 2


def _no_personal_data(detail: str) -> None:
    assert "7123" not in detail and "Ana" not in detail


async def test_the_fake_posts_signed_callbacks_in_order(clock: SimulatedClock) -> None:
    """The fake's own callbacks carry a signature the real validator accepts."""
    seen: list[tuple[str, bool]] = []
    receiver = web.Application()

    async def status(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        ok = RequestValidator(fake.auth_token).validate(str(request.url), form, signature)
        seen.append((form["MessageStatus"], ok))
        return web.Response(status=204)

    receiver.router.add_post("/status", status)
    runner = web.AppRunner(receiver)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/status"
    fake = await FakeTwilio(callbacks=[Callback("sent"), Callback("undelivered", 30003)]).start()
    channel = SmsChannel(_config(fake, status_callback_url=url), now=clock.now)
    try:
        await channel.send(_message(clock))
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.01)
    finally:
        await channel.aclose()
        await fake.close()
        await runner.cleanup()
    assert seen == [("sent", True), ("undelivered", True)]
    assert fake.callback_responses == [204, 204]
