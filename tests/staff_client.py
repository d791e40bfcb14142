"""A member of staff using the pages over real HTTP (ASGI in process): signs in, keeps the
session cookie, and sends every form with the CSRF token, as a browser would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App
from bot.services.staff.sign_in import set_password
from bot.web.admin.security import COOKIE
from bot.web.app import create_web_app
from store.enums import Role
from store.models import Staff
from tests.builders import add_staff

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class StaffClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def token(self) -> str:
        """This session's CSRF token, as its pages' forms carry it. Read from the cookie
        when there is one (saves a page load per post); from the sign-in page otherwise."""
        cookie = self.http.cookies.get(COOKIE)
        if cookie:
            _, data = URLSafeTimedSerializer("unused").loads_unsafe(cookie)
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                return data["csrf"]
        page = await self.http.get("/sign-in")
        found = _TOKEN.search(page.text)
        assert found, "no CSRF token on the sign-in page"
        return found.group(1)

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A form post with this session's CSRF token, as the page's own form sends it."""
        token = await self.token()
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        flat: list[tuple[str, str]] = []
        for name, value in fields:
            if isinstance(value, list | tuple):
                flat.extend((name, str(v)) for v in value)
            else:
                flat.append((name, str(value)))
        return await self.http.post(
            path,
            content=httpx.QueryParams([*flat, ("csrf_token", token)]).__str__().encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
            **kwargs,
        )

    async def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.post("/sign-in", {"email": email, "password": password})


def cookie_contents(client: StaffClient) -> dict[str, Any]:
    """What the session cookie carries, read as anyone holding it could (signed, not
    encrypted)."""
    cookie = client.http.cookies.get(COOKIE)
    if not cookie:
        return {}
    _, data = URLSafeTimedSerializer("unused").loads_unsafe(cookie)
    return data if isinstance(data, dict) else {}


@asynccontextmanager
async def staff_client(app: App, *, address: str = "127.0.0.1") -> AsyncIterator[StaffClient]:
    """The web app without its lifespan: no worker, no Telegram bot, just the pages,
    visited from ``address``."""
    web = create_web_app(app)
    transport = httpx.ASGITransport(app=web, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield StaffClient(client)


async def add_account(
    app: App,
    session: AsyncSession,
    *,
    name: str = "Sam Taylor",
    email: str = "sam@example.org",
    role: Role = Role.LINK_WORKER,
    password: str = PASSWORD,
) -> Staff:
    """A member of staff who can sign in."""
    staff = await add_staff(session, name=name, email=email, role=role, now=app.clock.now())
    await set_password(
        session, staff, password, passwords=app.passwords, now=app.clock.now(), actor="test"
    )
    return staff


@asynccontextmanager
async def signed_in(app: App, email: str) -> AsyncIterator[StaffClient]:
    async with staff_client(app) as client:
        response = await client.sign_in(email)
        assert response.status_code == 303, response.text
        yield client
