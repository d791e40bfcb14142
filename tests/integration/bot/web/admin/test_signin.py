"""Signing in: only the right password opens the pages, and nothing else gives anything away."""

from __future__ import annotations

from datetime import timedelta

from bot.bootstrap import App
from store.enums import Role
from store.models import Staff
from tests.staff_client import PASSWORD, add_account, signed_in, staff_client


async def test_the_pages_ask_for_sign_in_and_return_to_where_you_were(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with staff_client(app) as client:
        first = await client.get("/account/password?from=home")
        assert first.status_code == 303
        assert first.headers["location"] == "/sign-in?next=/account/password%3Ffrom%3Dhome"
        page = await client.get(first.headers["location"])
        assert "Sign in to Linkline" in page.text
        assert 'name="next" value="/account/password?from=home"' in page.text
        done = await client.post(
            "/sign-in",
            {
                "email": "sam@example.org",
                "password": PASSWORD,
                "next": "/account/password?from=home",
            },
        )
        assert (done.status_code, done.headers["location"]) == (303, "/account/password?from=home")
        home = await client.get("/")
        assert home.status_code == 200 and "What needs you today" in home.text
        assert "Signed in as Sam Taylor" in home.text


async def test_a_wrong_password_and_an_unknown_email_read_the_same(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with staff_client(app) as client:
        wrong = await client.sign_in("sam@example.org", "not the password at all")
        nobody = await client.sign_in("nobody@example.org", "not the password at all")
        assert wrong.status_code == nobody.status_code == 400
        for page in (wrong, nobody):
            assert "Enter the email address and password for your account" in page.text
        assert (await client.get("/")).status_code == 303


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with staff_client(app) as client:
        for _ in range(5):
            await client.sign_in("sam@example.org", "guess guess guess")
        locked = await client.sign_in("sam@example.org")
        assert locked.status_code == 400 and "locked for 15 minutes" in locked.text
        app.clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
        assert (await client.sign_in("sam@example.org")).status_code == 303


async def test_a_form_without_its_token_is_refused_and_saves_nothing(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with staff_client(app) as client:
        forged = await client.http.post(
            "/sign-in", data={"email": "sam@example.org", "password": PASSWORD}
        )
        assert forged.status_code == 400 and "This form has expired" in forged.text
        assert (await client.get("/")).status_code == 303


async def test_an_open_redirect_after_sign_in_goes_home_instead(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with staff_client(app) as client:
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            done = await client.post(
                "/sign-in", {"email": "sam@example.org", "password": PASSWORD, "next": target}
            )
            assert done.headers["location"] == "/"


async def test_a_new_password_signs_out_every_other_session(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session)
    async with (
        signed_in(app, "sam@example.org") as laptop,
        signed_in(app, "sam@example.org") as phone,
    ):
        changed = await laptop.post(
            "/account/password",
            {
                "new_password": "a whole new pass phrase",
                "confirm_password": "a whole new pass phrase",
            },
        )
        assert changed.status_code == 303
        assert (await laptop.get("/")).status_code == 200
        assert (await phone.get("/")).status_code == 303


async def test_a_closed_account_is_signed_out_at_the_next_click(app: App) -> None:
    async with app.sessions.begin() as session:
        staff = await add_account(app, session, role=Role.ADMIN)
    async with signed_in(app, "sam@example.org") as client:
        async with app.sessions.begin() as session:
            row = await session.get(Staff, staff.id)
            assert row is not None
            row.active = False
        assert (await client.get("/")).status_code == 303


async def test_pages_carry_security_headers_and_are_not_cached(app: App) -> None:
    async with staff_client(app) as client:
        page = await client.get("/sign-in")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in page.text  # GOV.UK Frontend's one inline script
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_the_session_cookie_never_carries_an_experts_name(app: App) -> None:
    """The cookie is signed, not encrypted: a banner after adding someone names them by
    reference only."""
    from itsdangerous import URLSafeTimedSerializer

    from bot.web.admin.security import COOKIE
    from tests.integration.bot.web.admin.expert_adding import fill_in, new_expert

    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
    async with signed_in(app, "sam@example.org") as client:
        added = await fill_in(
            client,
            new_expert(sam.id, preferred_name="Zephyrine", ref="EX-77", phone="07123 456789"),
        )
        assert added.status_code == 303, added.text
        cookie = client.http.cookies.get(COOKIE)
        assert cookie is not None
        _, carried = URLSafeTimedSerializer("unused").loads_unsafe(cookie)
        assert "EX-77" in str(carried) and "Zephyrine" not in str(carried)
