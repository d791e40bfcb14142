"""Every webhook, fed garbage: always a 4xx, and nothing stored.

Hypothesis throws malformed requests at the three webhooks (Twilio's inbound SMS and status
callbacks, Telegram's updates): random bytes, wrong or missing content types, forms with
missing, malformed or oversized fields, JSON that is not an update or has the wrong types
where an update has ids, chats, users and text, deeply nested junk and huge strings. Twilio
requests go unsigned, wrongly signed and correctly signed; Telegram requests go without the
secret token and with it. Whatever arrives, the answer is a 4xx (a 5xx makes Twilio and
Telegram send it again; a 2xx would mean garbage was taken in) and no row is added to the
replies, tasks, staff alerts or audit trail.

The Telegram bot runs for real: the app's lifespan is started, the bot talks to a fake Bot
API on loopback, and the tests wait until /healthz reports it ready (before that the
webhook answers 503, which Telegram retries). Requests go in through ASGI, not a socket,
so each example takes milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.bootstrap import App, build_app
from bot.web.app import create_web_app
from bot.web.webhooks.telegram import PATH as TELEGRAM_PATH
from bot.web.webhooks.twilio_sms import PATH as SMS_PATH
from bot.web.webhooks.twilio_status import PATH as STATUS_PATH
from scheduling.clock import SimulatedClock
from scheduling.rules.characters import typeable
from scheduling.sending.delivery_reports import KNOWN_STATUSES
from scheduling.worker import Worker
from store.models import AuditEvent, Base, Reply, StaffAlert, Task
from tests.builders import add_expert
from tests.conftest import make_settings
from tests.fakes.telegram import FakeTelegram

PUBLIC = "https://linkline.example.org"
SMS_URL = PUBLIC + SMS_PATH
STATUS_URL = PUBLIC + STATUS_PATH
AUTH_TOKEN = "fuzz-twilio-auth-token-0123456789"
ACCOUNT_SID = "AC" + "1" * 32
OUR_NUMBER = "+447700900000"
SECRET = "fuzz_webhook_secret-0123456789abcdef"
ANA_PHONE = "+447123456789"  # the builders' expert, "07123 456789"
ANA_CHAT = 5550001
FORM = "application/x-www-form-urlencoded"
_SID = re.compile(r"[A-Za-z]{2}[A-Za-z0-9]{10,62}")  # what bot.web.webhooks.twilio_sms accepts
_WATCHED = (Reply, Task, StaffAlert, AuditEvent)
_JUNK_HEALTH = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]


def fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(max_examples=examples, deadline=None, suppress_health_check=_JUNK_HEALTH)


@dataclass
class Hooks:
    app: App
    client: httpx.AsyncClient
    telegram: FakeTelegram
    _ids: count[int] = field(default_factory=lambda: count(1))

    def sid(self) -> str:
        return f"SM{next(self._ids):032x}"

    async def rows(self) -> dict[str, int]:
        async with self.app.sessions() as session:
            return {
                model.__tablename__: await session.scalar(select(func.count()).select_from(model))
                or 0
                for model in _WATCHED
            }

    async def post(
        self, path: str, body: bytes, content_type: str | None, headers: dict[str, str]
    ) -> httpx.Response:
        sent = dict(headers)
        if content_type is not None:
            sent["Content-Type"] = content_type
        return await self.client.post(path, content=body, headers=sent)

    async def form(
        self, path: str, params: dict[str, str], signature: str | None
    ) -> httpx.Response:
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        return await self.client.post(path, data=params, headers=headers)

    async def refused(self, send: Callable[[], Any]) -> httpx.Response:
        """Send; the answer must be a 4xx and no watched table may have grown."""
        before = await self.rows()
        response: httpx.Response = await send()
        after = await self.rows()
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
        assert after == before, (before, after)
        return response


async def _truncate(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        return
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with app.engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _inert_worker(app: App) -> Worker:
    """The scheduler, running (health needs it) but with no maintenance jobs, so nothing
    beside the requests themselves can add rows between two counts."""
    return Worker(app.dispatcher(), dispatch_every=3600.0, sweep_every=3600.0)


@pytest.fixture
async def hooks(tmp_path: Path, database_url: str, clock: SimulatedClock) -> AsyncIterator[Hooks]:
    async with FakeTelegram() as telegram:
        config = make_settings(
            tmp_path,
            database_url,
            public_url=PUBLIC,
            twilio_auth_token=AUTH_TOKEN,
            twilio_account_sid=ACCOUNT_SID,
            twilio_from_number=OUR_NUMBER,
            telegram_bot_token=telegram.token,
            telegram_webhook_secret=SECRET,
            telegram_api_base_url=telegram.url,
        )
        app = await build_app(config, clock=clock, upgrade=True)
        await _truncate(app)
        try:
            # Ana can be reached by text and on Telegram: a request that slipped through
            # would find her and open tasks, not just file a stranger's message.
            async with app.sessions.begin() as session:
                await add_expert(
                    app,
                    session,
                    telegram_chat_id=str(ANA_CHAT),
                    consent={"sms": {"allowed": True}, "telegram": {"allowed": True}},
                )
            web = create_web_app(app, worker=_inert_worker(app))
            async with (
                web.router.lifespan_context(web),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=web), base_url="http://testserver"
                ) as client,
            ):
                await _until_telegram_ready(client)
                yield Hooks(app, client, telegram)
        finally:
            await app.aclose()


async def _until_telegram_ready(client: httpx.AsyncClient) -> None:
    for _ in range(500):
        health = (await client.get("/healthz")).json()
        if health["telegram"] == "ready":
            assert health["status"] == "ok", health
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the Telegram bot never became ready: {health}")


# --- shared strategies --------------------------------------------------------------------

_text = st.text(max_size=40)
_bytes = st.binary(max_size=600)
_content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            FORM,
            FORM + "; charset=utf-8",
            "application/json",
            "text/plain",
            "multipart/form-data; boundary=xyz",
            "application/xml",
            "",
            "application/x-www-form-urlencoded-but-not",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)


def _repeat(lo: int, hi: int) -> st.SearchStrategy[str]:
    """A long string cheaply: a short piece repeated to a length between lo and hi."""
    return st.tuples(st.text(min_size=1, max_size=6), st.integers(lo, hi)).map(
        lambda pair: (pair[0] * pair[1])[: pair[1]]
    )


_header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300)

# --- Twilio -------------------------------------------------------------------------------


def _sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def _inbound(sid: str, sender: str = ANA_PHONE, body: str = "yes") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


def _status(sid: str, status: str = "delivered") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": status,
        "ApiVersion": "2010-04-01",
    }


# Fields that decide whether a form is a message or a callback: extras never set these.
_SMS_FIELDS = {"MessageSid", "SmsSid", "SmsMessageSid", "From", "Body", "NumMedia"}
_STATUS_FIELDS = {"MessageSid", "SmsSid", "MessageStatus", "SmsStatus"}
_bad_sids = st.one_of(
    st.text(max_size=80).filter(lambda s: not _SID.fullmatch(s)),
    st.from_regex(r"SM[0-9a-f]{1,9}", fullmatch=True),  # too short
    st.from_regex(r"SM[0-9a-f]{63,80}", fullmatch=True),  # too long
    st.from_regex(r"S[0-9][0-9a-f]{32}", fullmatch=True),  # no two-letter prefix
    st.from_regex(r"SM[0-9a-f]{16}[-_ ./:%][0-9a-f]{15}", fullmatch=True),  # odd character
)
_SMS_FAULTS = [
    "no_sid",
    "blank_sid",
    "bad_sid",
    "no_from",
    "blank_from",
    "long_from",
    "no_body",
    "long_body",
]


@st.composite
def malformed_sms(draw: st.DrawFn) -> dict[str, str]:
    """A Twilio inbound SMS form with at least one fault it cannot be taken in with."""
    form = _inbound(
        "SM" + draw(st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
        body=draw(st.sampled_from(["yes", "3", "STOP", "I'm not sure about Thursday"])),
    )
    for fault in draw(st.sets(st.sampled_from(_SMS_FAULTS), min_size=1, max_size=3)):
        if fault == "no_sid":
            form.pop("MessageSid")
        elif fault == "blank_sid":
            form["MessageSid"] = draw(st.sampled_from(["", " ", "\t"]))
        elif fault == "bad_sid":
            form["MessageSid"] = draw(_bad_sids)
        elif fault == "no_from":
            form.pop("From")
        elif fault == "blank_from":
            form["From"] = draw(st.sampled_from(["", " ", "\n\t "]))
        elif fault == "long_from":
            form["From"] = "+" + "4" * draw(st.integers(40, 200))
        elif fault == "no_body":
            form.pop("Body")
        elif fault == "long_body":
            form["Body"] = draw(_repeat(1601, 3000))
    extras = draw(st.dictionaries(_text.filter(lambda k: k not in _SMS_FIELDS), _text, max_size=3))
    return {**extras, **form}


@st.composite
def malformed_status(draw: st.DrawFn) -> dict[str, str]:
    """A status callback without a usable sid or a status we know."""
    form = _status("SM" + draw(st.from_regex(r"[0-9a-f]{32}", fullmatch=True)))
    faults = draw(
        st.sets(
            st.sampled_from(["no_sid", "blank_sid", "long_sid", "no_status", "bad_status"]),
            min_size=1,
        )
    )
    for fault in faults:
        if fault == "no_sid":
            form.pop("MessageSid")
        elif fault == "blank_sid":
            form["MessageSid"] = ""
        elif fault == "long_sid":
            form["MessageSid"] = "SM" + "a" * draw(st.integers(119, 400))
        elif fault == "no_status":
            form.pop("MessageStatus")
        elif fault == "bad_status":
            form["MessageStatus"] = draw(
                _text.filter(lambda s: s.strip().lower() not in KNOWN_STATUSES)
            )
    extras = draw(
        st.dictionaries(_text.filter(lambda k: k not in _STATUS_FIELDS), _text, max_size=3)
    )
    return {**extras, **form}


# Forms worth forging: well-formed ones (a forgery that got through would be stored) and
# random ones.
_forms_to_forge = st.one_of(
    st.builds(
        _inbound,
        st.from_regex(r"SM[0-9a-f]{32}", fullmatch=True),
        st.sampled_from([ANA_PHONE, "+447700900999"]),
        st.sampled_from(["yes", "I want to end it all", "STOP", "3"]),
    ),
    st.builds(_status, st.from_regex(r"SM[0-9a-f]{32}", fullmatch=True)),
    st.dictionaries(_text, _text, min_size=1, max_size=6),
)


@st.composite
def bad_signatures(draw: st.DrawFn, url: str, params: dict[str, str]) -> str | None:
    """No signature, or one that is not Twilio's for exactly this URL and form."""
    good = _sign(url, params)
    kind = draw(
        st.sampled_from(
            ["missing", "empty", "random", "flipped", "other_url", "other_token", "other_form"]
        )
    )
    if kind == "missing":
        return None
    if kind == "empty":
        return ""
    if kind == "random":
        return draw(_header_values.filter(lambda s: s != good))
    if kind == "flipped":  # one character of the real one changed
        at = draw(st.integers(0, len(good) - 1))
        swap = "A" if good[at] != "A" else "B"
        return good[:at] + swap + good[at + 1 :]
    if kind == "other_url":
        other = draw(
            st.sampled_from(
                [
                    "https://attacker.example.com" + SMS_PATH,
                    "http://linkline.example.org" + SMS_PATH,
                    PUBLIC + STATUS_PATH if url == SMS_URL else SMS_URL,
                    url + "/",
                ]
            )
        )
        return _sign(other, params)
    if kind == "other_token":
        return _sign(url, params, token=draw(_text.filter(lambda t: t != AUTH_TOKEN)))
    changed = {**params, "Body": params.get("Body", "") + "!"}  # signed, then tampered with
    return _sign(url, changed)


_twilio_endpoints = st.sampled_from([(SMS_PATH, SMS_URL), (STATUS_PATH, STATUS_URL)])


@fuzz(80)
@given(
    path=st.sampled_from([SMS_PATH, STATUS_PATH, TELEGRAM_PATH]),
    body=st.one_of(_bytes, _repeat(17_000, 70_000).map(str.encode)),
    content_type=_content_types,
    headers=st.dictionaries(
        st.sampled_from(["X-Twilio-Signature", "X-Telegram-Bot-Api-Secret-Token", "X-Other"]),
        _header_values,
        max_size=2,
    ),
)
async def test_random_bodies_with_random_headers_are_refused(
    hooks: Hooks, path: str, body: bytes, content_type: str | None, headers: dict[str, str]
) -> None:
    await hooks.refused(lambda: hooks.post(path, body, content_type, headers))


@fuzz(60)
@given(endpoint=_twilio_endpoints, form=_forms_to_forge, data=st.data())
async def test_twilio_forms_without_a_good_signature_are_403(
    hooks: Hooks, endpoint: tuple[str, str], form: dict[str, str], data: st.DataObject
) -> None:
    path, url = endpoint
    signature = data.draw(bad_signatures(url, form))
    response = await hooks.refused(lambda: hooks.form(path, form, signature))
    assert response.status_code == 403


@fuzz(60)
@given(form=malformed_sms())
async def test_signed_but_malformed_inbound_sms_is_refused(
    hooks: Hooks, form: dict[str, str]
) -> None:
    response = await hooks.refused(lambda: hooks.form(SMS_PATH, form, _sign(SMS_URL, form)))
    assert response.status_code in (400, 413)


@fuzz(40)
@given(form=malformed_status())
async def test_signed_but_malformed_status_callbacks_are_refused(
    hooks: Hooks, form: dict[str, str]
) -> None:
    response = await hooks.refused(lambda: hooks.form(STATUS_PATH, form, _sign(STATUS_URL, form)))
    assert response.status_code == 400


@fuzz(40)
@given(
    endpoint=_twilio_endpoints,
    body=st.one_of(
        _bytes,
        st.builds(lambda b: b"MessageSid=SM1&" + b, _bytes),
        st.sampled_from([b"no-equals-sign&&", b"a=1&&b=2", b"\xff\xfe=\x80", b"=&=&"]),
    ),
    content_type=st.sampled_from([FORM, FORM + "; charset=utf-8"]),
)
async def test_signed_junk_bytes_as_a_form_are_refused(
    hooks: Hooks, endpoint: tuple[str, str], body: bytes, content_type: str
) -> None:
    """Signed over whatever the bytes parse to (when they parse), so only the content is
    wrong: it is not a message or a callback."""
    path, url = endpoint
    try:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        params = {}
    assume(not params.get("MessageStatus") and not params.get("Body"))
    headers = {"X-Twilio-Signature": _sign(url, params)}
    await hooks.refused(lambda: hooks.post(path, body, content_type, headers))


@fuzz(30)
@given(
    form=st.one_of(malformed_sms(), _forms_to_forge),
    content_type=_content_types.filter(lambda c: (c or "").split(";")[0].strip().lower() != FORM),
)
async def test_signed_forms_in_the_wrong_content_type_are_refused(
    hooks: Hooks, form: dict[str, str], content_type: str | None
) -> None:
    body = httpx.QueryParams(form).__str__().encode()
    headers = {"X-Twilio-Signature": _sign(SMS_URL, form)}
    response = await hooks.refused(lambda: hooks.post(SMS_PATH, body, content_type, headers))
    assert response.status_code == 415


# --- Telegram -----------------------------------------------------------------------------

_DATE = 1_768_204_800  # 2026-01-12 08:00 UTC, the clock's start


def _user(user_id: int = ANA_CHAT) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ana"}


def _message(chat_id: int = ANA_CHAT, text: str = "yes") -> dict[str, Any]:
    return {
        "message_id": 7,
        "date": _DATE,
        "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
        "from": _user(chat_id),
        "text": text,
    }


def _update(update_id: int, kind: str = "message", text: str = "yes") -> dict[str, Any]:
    """A well-formed update from Ana's private chat: the message kinds Linkline listens
    to, the /start that links a chat, and a tap on an answer button."""
    if kind == "callback_query":
        return {
            "update_id": update_id,
            "callback_query": {
                "id": "4382bfdwdsb323b2d9",
                "from": _user(),
                "chat_instance": "-8123456789",
                "data": "a:1:yes",
                "message": {**_message(text="Can you come on Thursday?"), "message_id": 1},
            },
        }
    message = _message(text=text)
    if kind == "start":
        kind, message["text"] = "message", "/start Zx9-link-code"
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
    return {"update_id": update_id, kind: message}


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_IS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**53,
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "dict": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
}
_too_big = st.one_of(st.integers(min_value=2**53), st.integers(max_value=-(2**53)))


def _wrong(kind: str) -> st.SearchStrategy[Any]:
    """A JSON value that is not of this Bot API type (an int out of its 52-bit range too)."""
    values = st.one_of(_json, _too_big) if kind == "int" else _json
    return values.filter(lambda v: not _IS[kind](v))


# (path into the update, the type Telegram puts there). "*" is the update's message kind.
_TYPED_PATHS: list[tuple[tuple[str, ...], str]] = [
    (("*",), "dict"),
    (("*", "message_id"), "int"),
    (("*", "date"), "int"),
    (("*", "chat"), "dict"),
    (("*", "chat", "id"), "int"),
    (("*", "chat", "type"), "str"),
    (("*", "from"), "dict"),
    (("*", "from", "id"), "int"),
    (("*", "from", "is_bot"), "bool"),
    (("*", "from", "first_name"), "str"),
    (("*", "text"), "str"),
    (("*", "caption"), "str"),
    (("*", "entities"), "list"),
    (("*", "entities", "0"), "dict"),
    (("*", "entities", "0", "type"), "str"),
    (("*", "entities", "0", "offset"), "int"),
    (("*", "entities", "0", "length"), "int"),
]
_CALLBACK_PATHS: list[tuple[tuple[str, ...], str]] = [
    (("callback_query",), "dict"),
    (("callback_query", "id"), "str"),
    (("callback_query", "from"), "dict"),
    (("callback_query", "from", "id"), "int"),
    (("callback_query", "chat_instance"), "str"),
    (("callback_query", "data"), "str"),
    (("callback_query", "message"), "dict"),
    (("callback_query", "message", "chat"), "dict"),
    (("callback_query", "message", "chat", "id"), "int"),
    (("callback_query", "message", "chat", "type"), "str"),
    (("callback_query", "message", "message_id"), "int"),
]


def _put(update: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = update
    for step in path[:-1]:
        if isinstance(node, list):
            node = node[int(step)]
        else:
            if step == "entities" and step not in node:
                node[step] = [{"type": "bot_command", "offset": 0, "length": 3}]
            node = node[step]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


@st.composite
def mistyped_updates(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed update with one to three fields of the wrong type."""
    kind = draw(st.sampled_from(["message", "edited_message", "start", "callback_query"]))
    update = _update(draw(st.integers(1, 2**31)), kind)
    name = next(k for k in update if k != "update_id")
    paths = _CALLBACK_PATHS if name == "callback_query" else _TYPED_PATHS
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True))
    for path, expected in sorted(chosen, key=lambda p: len(p[0]), reverse=True):
        steps = tuple(name if step == "*" else step for step in path)
        # Deepest first, so a parent replaced later still leaves a fault behind.
        _put(update, steps, draw(_wrong(expected)))
    return update


def _bad_update_ids() -> st.SearchStrategy[dict[str, Any]]:
    wrong_id = st.one_of(_wrong("int"), st.integers(max_value=-1))
    return st.one_of(
        st.builds(lambda v: {**_update(1), "update_id": v}, wrong_id),
        st.builds(lambda u: {k: v for k, v in u.items() if k != "update_id"}, st.just(_update(1))),
        st.dictionaries(st.text(max_size=10).filter(lambda k: k != "update_id"), _json),
    )


def _nested(depth: int, wrap: str) -> str:
    open_, close = ("[", "]") if wrap == "list" else ('{"a":', "}")
    return open_ * depth + "1" + close * depth


_malformed_json_bodies = st.one_of(
    # JSON that is not an object at all
    st.one_of(_json_scalars, st.lists(_json, max_size=5)).map(json.dumps),
    # objects whose update_id is missing, of the wrong type, negative or too big
    _bad_update_ids().map(json.dumps),
    # updates with the wrong types where ids, chats, users and text go
    mistyped_updates().map(json.dumps),
    # deeply nested junk, at the top and where a message goes
    st.builds(_nested, st.integers(900, 30_000), st.sampled_from(["list", "dict"])),
    st.builds(
        lambda depth: '{"update_id": 5, "message": ' + _nested(depth, "dict") + "}",
        st.integers(50, 20_000),
    ),
    # huge strings (past the size limit, or a number too long to read)
    _repeat(66_000, 80_000).map(lambda s: json.dumps({**_update(6), "junk": s})),
    st.integers(4_400, 20_000).map(lambda n: '{"update_id": ' + "9" * n + "}"),
    # text that no UTF-8 sender can produce: a lone surrogate
    st.sampled_from(["\\ud800", "\\udfff", "a\\ud83d", "\\ude00b"]).map(
        lambda s: json.dumps(_update(8)).replace('"text": "yes"', f'"text": "{s}"')
    ),
)


@fuzz(150)
@given(body=_malformed_json_bodies)
async def test_with_the_secret_malformed_updates_are_refused(hooks: Hooks, body: str) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = await hooks.refused(
        lambda: hooks.post(TELEGRAM_PATH, body.encode("utf-8"), "application/json", headers)
    )
    assert response.status_code in (400, 413)


@fuzz(40)
@given(
    body=st.one_of(
        st.integers(1, 2**31).map(lambda n: json.dumps(_update(n))), _malformed_json_bodies
    ),
    content_type=_content_types.filter(
        lambda c: (c or "").split(";")[0].strip().lower() != "application/json"
    ),
)
async def test_with_the_secret_anything_but_json_is_415(
    hooks: Hooks, body: str, content_type: str | None
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    response = await hooks.refused(
        lambda: hooks.post(TELEGRAM_PATH, body.encode("utf-8"), content_type, headers)
    )
    assert response.status_code in (413, 415)


_wrong_secrets = st.one_of(
    st.none(),
    st.just(""),
    _header_values.filter(lambda s: s != SECRET),
    st.integers(0, len(SECRET) - 1).map(lambda i: SECRET[:i] + "#" + SECRET[i + 1 :]),
    st.just(SECRET[:-1]),
    st.just(SECRET + "x"),
    st.just(SECRET.upper()),
    st.just("s" * 257),
)


@fuzz(60)
@given(
    secret=_wrong_secrets,
    body=st.one_of(
        st.builds(
            lambda n, kind: json.dumps(_update(n, kind)),
            st.integers(1, 2**31),
            st.sampled_from(["message", "start", "callback_query"]),
        ),
        _malformed_json_bodies,
    ),
)
async def test_without_the_secret_every_update_is_403(
    hooks: Hooks, secret: str | None, body: str
) -> None:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    response = await hooks.refused(
        lambda: hooks.post(TELEGRAM_PATH, body.encode("utf-8"), "application/json", headers)
    )
    assert response.status_code == 403


# --- the edge cases, one by one -----------------------------------------------------------


async def _with_secret(hooks: Hooks, body: str | bytes) -> httpx.Response:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    return await hooks.post(TELEGRAM_PATH, raw, "application/json", headers)


def _mistyped(kind: str, path: tuple[str, ...], value: Any) -> str:
    update = _update(41, kind)
    _put(update, path, value)
    return json.dumps(update)


# Each was a 5xx or a stored reply (200) before the webhook checked an update's types.
_EDGE_CASES: list[tuple[str, str]] = [
    ("nested lists (RecursionError, 500)", "[" * 20_000 + "]" * 20_000),
    ("nested objects (RecursionError, 500)", _nested(5_000, "dict")),
    (
        "a nested message (RecursionError, 500)",
        '{"update_id": 5, "message": ' + _nested(5_000, "dict") + "}",
    ),
    ("chat id a string (200, stored)", _mistyped("message", ("message", "chat", "id"), "5550001")),
    ("chat id a float (200, stored)", _mistyped("message", ("message", "chat", "id"), 5550001.0)),
    ("chat id past 52 bits (200, stored)", _mistyped("message", ("message", "chat", "id"), 2**70)),
    ("chat type a number (200)", _mistyped("message", ("message", "chat", "type"), 7)),
    ("message id a string (200, stored)", _mistyped("message", ("message", "message_id"), "7")),
    ("is_bot a string (200, stored)", _mistyped("message", ("message", "from", "is_bot"), "no")),
    ("text a number (500)", _mistyped("message", ("message", "text"), 5)),
    ("text a list (500)", _mistyped("message", ("message", "text"), ["yes"])),
    ("text null (200, stored)", _mistyped("message", ("message", "text"), None)),
    ("edited text a number (500)", _mistyped("edited_message", ("edited_message", "text"), 5)),
    ("button data a number (500)", _mistyped("callback_query", ("callback_query", "data"), 7)),
    ("button id a number (200, stored)", _mistyped("callback_query", ("callback_query", "id"), 1)),
    (
        "button chat id a string (200, stored)",
        _mistyped("callback_query", ("callback_query", "message", "chat", "id"), "x"),
    ),
    (
        "a lone surrogate in the text (500)",
        json.dumps(_update(43)).replace('"text": "yes"', '"text": "hi \\ud800"'),
    ),
    ("update_id past 52 bits (200, stored)", json.dumps(_update(2**64))),
    ("update_id of 116 digits (500 on PostgreSQL)", json.dumps(_update(10**115))),
]


async def test_the_edge_cases_found_are_400_and_kept_nowhere(hooks: Hooks) -> None:
    for label, body in _EDGE_CASES:
        before = await hooks.rows()
        response = await _with_secret(hooks, body)
        assert response.status_code == 400, (label, response.status_code)
        assert await hooks.rows() == before, label


@pytest.mark.parametrize(
    "message_id",
    [
        pytest.param("3000000000", id="past-int32"),  # was a 500 on PostgreSQL only
        pytest.param("9" * 30, id="past-int64"),  # was a 500 on both
    ],
)
async def test_a_button_naming_a_message_id_past_any_column_is_ignored(
    hooks: Hooks, message_id: str
) -> None:
    """Callback data is ours, but a modified client can send any: a message id no column
    can hold is a button that is not ours (acknowledged, nothing kept), not a crash."""
    update = _update(44, "callback_query")
    update["callback_query"]["data"] = f"a:{message_id}:yes"
    before = await hooks.rows()
    response = await _with_secret(hooks, json.dumps(update))
    assert response.status_code == 200
    assert await hooks.rows() == before
    assert hooks.telegram.callback_answers  # the spinner on their button was stopped


async def test_well_formed_updates_still_go_through(hooks: Hooks) -> None:
    """The other side of the property: the same shapes, well typed, are taken in."""
    before = await hooks.rows()
    assert (await _with_secret(hooks, json.dumps(_update(50)))).status_code == 200
    assert (await _with_secret(hooks, json.dumps(_update(50)))).status_code == 200  # a repeat
    # An emoji arrives as an escaped surrogate pair: that is a character, not a lone half.
    emoji = json.dumps(_update(52), ensure_ascii=True).replace('"yes"', '"\\ud83d\\udc4d yes"')
    assert (await _with_secret(hooks, emoji)).status_code == 200
    grown = await hooks.rows()
    assert grown["reply"] == before["reply"] + 2
    group = _update(51)
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Panel"}
    assert (await _with_secret(hooks, json.dumps(group))).status_code == 200
    assert (await hooks.rows())["reply"] == grown["reply"]  # groups are not how experts write


async def test_the_webhook_answers_503_only_until_the_bot_has_started(hooks: Hooks) -> None:
    """A second app over the same database, its lifespan never run: the secret is still
    checked first, and a good request is asked to come back later."""
    web = create_web_app(hooks.app, worker=_inert_worker(hooks.app))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://testserver"
    ) as client:
        health = (await client.get("/healthz")).json()
        assert health["telegram"] == "starting"
        body = json.dumps(_update(60))
        kind = {"Content-Type": "application/json"}
        secret = {**kind, "X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await client.post(TELEGRAM_PATH, content=body, headers=kind)).status_code == 403
        assert (await client.post(TELEGRAM_PATH, content=body, headers=secret)).status_code == 503
    response = await _with_secret(hooks, json.dumps(_update(60)))  # the started app
    assert response.status_code == 200


async def test_sms_body_length_boundary(hooks: Hooks) -> None:
    """1,600 characters is Twilio's limit: exactly that is a message, one more is not."""
    at_limit, over = _inbound(hooks.sid(), body="y" * 1600), _inbound(hooks.sid(), body="y" * 1601)
    response = await hooks.refused(lambda: hooks.form(SMS_PATH, over, _sign(SMS_URL, over)))
    assert response.status_code == 400
    before = await hooks.rows()
    response = await hooks.form(SMS_PATH, at_limit, _sign(SMS_URL, at_limit))
    assert response.status_code == 200
    assert (await hooks.rows())["reply"] == before["reply"] + 1


@pytest.mark.db_contract
@fuzz(25)
@given(
    sender=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and typeable(s)),
    body=st.text(max_size=1600).filter(lambda s: typeable(s, multi_line=True)),
)
async def test_signed_well_formed_sms_is_kept_exactly_once(
    hooks: Hooks, sender: str, body: str
) -> None:
    """Whatever the sender and text (within Twilio's limits), a signed message is a 200 and
    one reply, and the same MessageSid again adds nothing."""
    form = _inbound(hooks.sid(), sender=sender, body=body)
    before = await hooks.rows()
    first = await hooks.form(SMS_PATH, form, _sign(SMS_URL, form))
    assert first.status_code == 200, first.text[:200]
    assert first.headers["content-type"].startswith("application/xml")
    kept = await hooks.rows()
    assert kept["reply"] == before["reply"] + 1
    again = await hooks.form(SMS_PATH, form, _sign(SMS_URL, form))
    assert again.status_code == 200
    assert (await hooks.rows())["reply"] == kept["reply"]


# --- control characters (M-5): a NUL reaches no database ----------------------------------

_controls = st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85"])
_breaks = st.sampled_from(["\n", "\r", "\t"])


@st.composite
def _spoiled(draw: st.DrawFn, text: str, breaks_allowed: bool) -> str:
    """``text`` with a control character put somewhere in it (a line break only where
    the field holds one line)."""
    bad = draw(_controls if breaks_allowed else st.one_of(_controls, _breaks))
    at = draw(st.integers(0, len(text)))
    return text[:at] + bad + text[at:]


@pytest.mark.db_contract
@fuzz(40)
@given(data=st.data(), field_name=st.sampled_from(["MessageSid", "From", "Body", "To"]))
async def test_signed_sms_with_a_control_character_is_400_and_kept_nowhere(
    hooks: Hooks, data: st.DataObject, field_name: str
) -> None:
    form = _inbound(hooks.sid(), body="I can come on Thursday")
    form[field_name] = data.draw(_spoiled(form[field_name], field_name == "Body"))
    response = await hooks.refused(lambda: hooks.form(SMS_PATH, form, _sign(SMS_URL, form)))
    assert response.status_code == 400


@pytest.mark.db_contract
@fuzz(30)
@given(data=st.data(), field_name=st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode"]))
async def test_signed_status_callback_with_a_control_character_is_400(
    hooks: Hooks, data: st.DataObject, field_name: str
) -> None:
    """A NUL in a signed MessageSid was a 500 on PostgreSQL, which Twilio retries for a day."""
    form = {**_status(hooks.sid(), "undelivered"), "ErrorCode": "30003"}
    form[field_name] = data.draw(_spoiled(form[field_name], False))
    response = await hooks.refused(lambda: hooks.form(STATUS_PATH, form, _sign(STATUS_URL, form)))
    assert response.status_code == 400


@pytest.mark.db_contract
async def test_the_status_callback_found_by_the_review_is_400(hooks: Hooks) -> None:
    form = _status("SM\x00abc")
    response = await hooks.refused(lambda: hooks.form(STATUS_PATH, form, _sign(STATUS_URL, form)))
    assert response.status_code == 400
    good = _status(hooks.sid())
    assert (await hooks.form(STATUS_PATH, good, _sign(STATUS_URL, good))).status_code == 204


@pytest.mark.db_contract
@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x7f"])
async def test_telegram_text_with_a_control_character_is_400(hooks: Hooks, bad: str) -> None:
    update = _update(70)
    update["message"]["text"] = f"yes{bad}please"
    before = await hooks.rows()
    response = await _with_secret(hooks, json.dumps(update))
    assert response.status_code == 400
    assert await hooks.rows() == before
    update = _update(71)
    update["message"]["text"] = "line one\nline two\tand a tab"  # a chat message holds these
    assert (await _with_secret(hooks, json.dumps(update))).status_code == 200
