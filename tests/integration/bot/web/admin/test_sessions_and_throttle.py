"""Sign-in that cannot be aimed at an office, and sessions that really end (issue 14:
H-2, L-1, M-1, M-3, and the sign-in flood that stalled /healthz)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from datetime import timedelta
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.staff.sign_in import Passwords
from bot.web.admin.security import COOKIE
from bot.web.app import create_web_app
from store.enums import Role
from store.models import SignInFailure, StaffSession
from tests.staff_client import (
    PASSWORD,
    StaffClient,
    add_account,
    cookie_contents,
    signed_in,
    staff_client,
)

SAM = "sam@example.org"
ALEX = "alex@example.org"
WRONG = "not the password at all"


async def _accounts(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Alex Admin", email=ALEX, role=Role.ADMIN)


async def _with_cookie(app: App, cookie: str, path: str = "/experts") -> httpx.Response:
    """A second browser holding a copy of someone's cookie."""
    async with staff_client(app, address="198.51.100.9") as thief:
        thief.http.cookies.set(COOKIE, cookie)
        return await thief.get(path)


def _as_seen(page: httpx.Response, email: str) -> str:
    """The page without what differs by design: the email typed and the CSP nonce."""
    return re.sub(r"nonce[-=]\S+", "", page.text).replace(email, "")


@pytest.mark.db_contract
async def test_twenty_five_good_sign_ins_from_one_office_are_never_held_up(app: App) -> None:
    await _accounts(app)
    async with staff_client(app, address="203.0.113.10") as office:
        for _ in range(25):
            done = await office.sign_in(SAM)
            assert done.status_code == 303, done.text
    async with app.sessions() as session:
        assert await session.scalar(select(func.count(SignInFailure.id))) == 0


@pytest.mark.db_contract
async def test_wrong_passwords_lock_the_account_and_then_the_client(app: App) -> None:
    await _accounts(app)
    async with staff_client(app, address="203.0.113.20") as guesser:
        for _ in range(5):
            assert (await guesser.sign_in(SAM, WRONG)).status_code == 400
    # The account is locked: even the right password, from anywhere, is turned away...
    async with staff_client(app, address="203.0.113.99") as sam:
        assert (await sam.sign_in(SAM)).status_code == 400
        app.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
        assert (await sam.sign_in(SAM)).status_code == 303
    # ...and one client spraying many accounts is stopped after 20 failures in all.
    async with staff_client(app, address="203.0.113.20") as guesser:
        for n in range(20):
            await guesser.sign_in(f"person{n}@example.org", WRONG)
        held = await guesser.sign_in(ALEX)
        assert held.status_code == 429 and "Too many wrong sign-ins from here" in held.text
    async with staff_client(app, address="203.0.113.21") as colleague:
        assert (await colleague.sign_in(ALEX)).status_code == 303
    # Failures expire with their window, one by one: nothing wipes the whole table.
    app.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
    async with staff_client(app, address="203.0.113.20") as guesser:
        assert (await guesser.sign_in(SAM)).status_code == 303
        await guesser.sign_in("nobody@example.org", WRONG)
    async with app.sessions() as session:
        assert await session.scalar(select(func.count(SignInFailure.id))) == 1


async def test_a_forwarded_for_header_from_an_untrusted_client_is_ignored(app: App) -> None:
    await _accounts(app)
    async with staff_client(app, address="203.0.113.30") as guesser:
        for n in range(20):
            await guesser.http.post(
                "/sign-in",
                content=httpx.QueryParams(
                    {"email": SAM, "password": WRONG, "csrf_token": await guesser.token()}
                )
                .__str__()
                .encode(),
                headers={
                    "content-type": "application/x-www-form-urlencoded",
                    "x-forwarded-for": f"10.9.{n}.1",
                },
            )
        assert (await guesser.sign_in(ALEX)).status_code == 429


def test_uvicorn_believes_forwarded_for_only_from_listed_proxies(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from bot.cli.serving import web_config
    from bot.settings import Settings

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own default must not leak in
    plain = web_config(app, "127.0.0.1", 8000)
    plain.load()
    assert not plain.proxy_headers and not isinstance(plain.loaded_app, ProxyHeadersMiddleware)

    app.settings = app.settings.model_copy(update={"trusted_proxies": "10.0.0.5"})
    behind = web_config(app, "127.0.0.1", 8000)
    behind.load()
    assert behind.proxy_headers and behind.forwarded_allow_ips == ["10.0.0.5"]
    assert isinstance(behind.loaded_app, ProxyHeadersMiddleware)

    with pytest.raises(ValueError, match="LINKLINE_TRUSTED_PROXIES"):
        Settings.model_validate({**app.settings.model_dump(), "trusted_proxies": "10.0.0.5,?"})


class _Counting(Passwords):
    """Counts the password checks each answer cost."""

    checks = 0

    async def verify(self, stored: str, password: str) -> bool:
        type(self).checks += 1
        return await super().verify(stored, password)


async def test_unknown_wrong_locked_and_no_password_answer_alike(app: App) -> None:
    await _accounts(app)
    async with app.sessions.begin() as session:
        from tests.builders import add_staff

        await add_staff(session, name="New Person", email="new@example.org", now=app.clock.now())
    counting = _Counting(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app.passwords = counting
    async with staff_client(app, address="203.0.113.40") as client:
        for _ in range(5):
            await client.sign_in(SAM, WRONG)
    answers: dict[str, tuple[int, str, int]] = {}
    async with staff_client(app, address="203.0.113.41") as client:
        for label, email, password in (
            ("unknown", "nobody@example.org", WRONG),
            ("wrong", ALEX, WRONG),
            ("locked", SAM, PASSWORD),
            ("no password", "new@example.org", WRONG),
        ):
            before = _Counting.checks
            page = await client.sign_in(email, password)
            answers[label] = (page.status_code, _as_seen(page, email), _Counting.checks - before)
    assert len(set(answers.values())) == 1, {k: (v[0], v[2]) for k, v in answers.items()}
    status, text, checks = answers["locked"]
    assert status == 400 and checks == 1 and "Enter the email address and password" in text


@pytest.mark.db_contract
async def test_a_copied_cookie_stops_working_after_sign_out(app: App) -> None:
    await _accounts(app)
    async with signed_in(app, SAM) as sam:
        copied = sam.http.cookies[COOKIE]
        assert (await _with_cookie(app, copied)).status_code == 200
        assert (await sam.post("/sign-out")).status_code == 303
    assert (await _with_cookie(app, copied)).status_code == 303
    async with app.sessions() as session:
        rows = list(await session.scalars(select(StaffSession)))
    assert len(rows) == 1 and rows[0].ended_at is not None
    assert copied not in rows[0].id_hash and len(rows[0].id_hash) == 64  # only a hash kept


async def test_a_copied_cookie_stops_working_after_a_password_change(app: App) -> None:
    await _accounts(app)
    async with signed_in(app, SAM) as sam:
        copied = sam.http.cookies[COOKIE]
        new = "a new long pass phrase"
        changed = await sam.post(
            "/account/password", {"new_password": new, "confirm_password": new}
        )
        assert changed.status_code == 303
        assert (await sam.get("/experts")).status_code == 200  # this browser carries on
    assert (await _with_cookie(app, copied)).status_code == 303


async def test_role_change_and_closing_an_account_end_their_sessions(app: App) -> None:
    await _accounts(app)
    async with signed_in(app, SAM) as sam, signed_in(app, ALEX) as alex:
        sam_id = await _staff_id(app, SAM)
        assert (
            await alex.post(f"/admin/staff/{sam_id}/role", {"role": "admin"})
        ).status_code == 303
        assert (await sam.get("/experts")).status_code == 303
        assert (await sam.sign_in(SAM)).status_code == 303
        closed = await alex.post(f"/admin/staff/{sam_id}/close", {"confirm_close": "yes"})
        assert closed.status_code == 303
        assert (await sam.get("/experts")).status_code == 303


async def _staff_id(app: App, email: str) -> int:
    from store.models import Staff

    async with app.sessions() as session:
        found = await session.scalar(select(Staff.id).where(Staff.email == email))
    assert found is not None
    return found


async def test_idle_and_absolute_limits_are_enforced_on_the_server(app: App) -> None:
    await _accounts(app)
    async with signed_in(app, SAM) as sam:
        app.clock.advance(timedelta(minutes=31))  # type: ignore[attr-defined]
        assert (await sam.get("/experts")).status_code == 303
    async with signed_in(app, SAM) as sam:
        for _ in range(11 * 3 + 2):  # busy all day, a page every 20 minutes
            app.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
            assert (await sam.get("/experts")).status_code == 200
        app.clock.advance(timedelta(minutes=20))  # type: ignore[attr-defined]
        assert (await sam.get("/experts")).status_code == 303  # 12 hours after signing in
    app.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    async with signed_in(app, SAM), app.sessions() as session:
        # Week-old sessions are cleared away when they sign in again.
        assert await session.scalar(select(func.count(StaffSession.id))) == 1


async def test_an_administrator_sees_and_ends_someones_session(app: App) -> None:
    await _accounts(app)
    sam_id = await _staff_id(app, SAM)
    async with staff_client(app, address="203.0.113.77") as sam, signed_in(app, ALEX) as alex:
        assert (await sam.sign_in(SAM)).status_code == 303
        page = await alex.get(f"/admin/staff/{sam_id}")
        assert "Signed in now" in page.text and "203.0.113.x" in page.text
        assert "203.0.113.77" not in page.text
        async with app.sessions() as session:
            row = await session.scalar(select(StaffSession).where(StaffSession.staff_id == sam_id))
        assert row is not None
        # Seeing is not changing: a link worker cannot end anyone's session, not even
        # their own from this page, and it looks the same as a session that is not there.
        alex_id = await _staff_id(app, ALEX)
        async with app.sessions() as session:
            alexs = await session.scalar(
                select(StaffSession).where(StaffSession.staff_id == alex_id)
            )
        assert alexs is not None
        assert (
            await sam.post(f"/admin/staff/{alex_id}/sessions/{alexs.id}/end")
        ).status_code == 404
        assert (await sam.post(f"/admin/staff/{sam_id}/sessions/{row.id}/end")).status_code == 404
        assert (await alex.get("/experts")).status_code == 200
        ended = await alex.post(f"/admin/staff/{sam_id}/sessions/{row.id}/end")
        assert ended.status_code == 303
        after = await alex.get(ended.headers["location"])
        assert "That session has ended" in after.text and "Not signed in anywhere" in after.text
        assert (await sam.get("/experts")).status_code == 303
        assert (await alex.get("/experts")).status_code == 200


async def test_no_name_or_address_travels_in_any_cookie(app: App) -> None:
    await _accounts(app)
    sam_id = await _staff_id(app, SAM)
    async with signed_in(app, ALEX) as alex:
        carried = [cookie_contents(alex)]
        for path, form in (
            (f"/admin/staff/{sam_id}/role", {"role": "admin"}),
            (f"/admin/staff/{sam_id}/unlock", {}),
            (f"/cover/{sam_id}", {"clear": "yes"}),
            (f"/admin/staff/{sam_id}/alerts", {"alert_channel": "email"}),
            (
                f"/admin/staff/{sam_id}/password",
                {"new_password": "another long phrase", "confirm_password": "another long phrase"},
            ),
        ):
            assert (await alex.post(path, form)).status_code == 303
            carried.append(cookie_contents(alex))
    for data in carried:
        assert set(data) <= {"sid", "csrf", "flash"}
        text = str(data)
        for leak in ("Sam", "Taylor", "Alex", SAM, ALEX):
            assert leak not in text, (leak, text)


class _SlowHasher(PasswordHasher):
    """argon2 at its real cost is 0.1-0.3 s a check outside the event loop; a sleep in
    the hashing thread stands for it, so the test measures waiting, not this machine."""

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        time.sleep(0.15)
        return super().verify(hash, password)


class _GatedHasher(PasswordHasher):
    """Every check waits in its hashing thread until the test opens the gate, so the test
    can ask /healthz while a flood of sign-ins is stuck in hashing: no timing involved."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.gate = threading.Event()
        self.entered = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.entered += 1
        self.gate.wait(timeout=60)  # a guard: the test opens it long before
        return super().verify(hash, password)


async def test_a_flood_of_wrong_passwords_leaves_healthz_answering(app: App) -> None:
    await _accounts(app)
    hasher = _GatedHasher()
    app.passwords = Passwords(hasher)
    web = create_web_app(app)
    async with staff_client(app) as first:
        await first.get("/sign-in")
        cookie = first.http.cookies[COOKIE]  # one page load: the flood is of sign-ins

    async def one_guess(n: int) -> int:
        transport = httpx.ASGITransport(app=web, client=(f"10.1.0.{n}", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            http.cookies.set(COOKIE, cookie)
            guess = await StaffClient(http).sign_in(SAM if n % 2 else f"x{n}@example.org", WRONG)
            return guess.status_code

    flood = [asyncio.create_task(one_guess(n)) for n in range(30)]
    try:
        for _ in range(600):  # until the first check is stuck in hashing
            if hasher.entered:
                break
            await asyncio.sleep(0.01)
        assert hasher.entered, "no sign-in reached the password check"
        # Every check is now held in hashing. Before, the event loop (and a database
        # connection) waited with them, and /healthz took as long as the whole flood.
        health = httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://t")
        async with health:
            for _ in range(5):
                answer = await asyncio.wait_for(health.get("/healthz"), timeout=30)
                # It answers (not ready: this test runs no lifespan) instead of waiting.
                assert answer.status_code in (200, 503)
        assert not all(task.done() for task in flood), "the flood ended before /healthz"
    finally:
        hasher.gate.set()
        statuses = await asyncio.gather(*flood)
    assert set(statuses) <= {400, 503}


async def test_when_too_many_sign_ins_wait_the_next_is_told_to_try_again(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services.staff import sign_in

    await _accounts(app)
    monkeypatch.setattr(sign_in, "MOST_WAITING", 2)
    app.passwords = Passwords(_SlowHasher(time_cost=1, memory_cost=1024, parallelism=1))
    await app.passwords.verify_nobody("warm up: makes the dummy hash")
    async with staff_client(app, address="203.0.113.50") as client:
        await client.get("/sign-in")
        pages = await asyncio.gather(*(client.sign_in(SAM, WRONG) for _ in range(4)))
    statuses = sorted(page.status_code for page in pages)
    assert statuses == [400, 400, 503, 503]
    busy = next(page for page in pages if page.status_code == 503)
    assert "Signing in is busy just now. Wait a minute and try again" in busy.text
