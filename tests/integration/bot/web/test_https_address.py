"""An https LINKLINE_PUBLIC_URL turns on the Secure cookie flag and HSTS; a laptop's local
http address leaves them off, so signing in still works there (ASVS 3.4.1, 14.4.5)."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from tests.staff_client import staff_client


@pytest.mark.parametrize(
    ("address", "secure"),
    [("https://linkline.example.org", True), ("http://127.0.0.1:8000", False)],
)
async def test_the_session_cookie_is_secure_and_pages_carry_hsts_only_over_https(
    app: App, address: str, secure: bool
) -> None:
    app.settings = app.settings.model_copy(update={"public_url": address})
    async with staff_client(app) as client:
        page = await client.get("/sign-in")
    cookie = page.headers["set-cookie"]
    assert ("; Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    hsts = page.headers.get("strict-transport-security")
    assert (hsts == "max-age=31536000; includeSubDomains") is secure
