"""A new postal address from the command line: it waits for a colleague, and letters are
held meanwhile unless the old address is recorded as still safe."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.common import open_app
from store.models import ContactChange
from tests.cli_runner import Invoke

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n"
)


@pytest.fixture
def ana(ready: Invoke, tmp_path: Path) -> Invoke:
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    return ready


def _waiting() -> list[bool]:
    async def go() -> list[bool]:
        async with open_app() as built, built.sessions() as session:
            rows = await session.scalars(select(ContactChange).order_by(ContactChange.id))
            return [c.old_address_safe for c in rows]

    return asyncio.run(go())


def test_letters_are_held_unless_the_old_address_is_recorded_as_safe(ana: Invoke) -> None:
    address = "3 New Street\\nDundee DD2 2BB"
    held = ana("experts", "new-address", "EX-1", address, "--by", "sam@example.org")
    assert held.exit_code == 0, held.output
    assert "no letters are sent" in held.output
    again = ana("experts", "new-address", "EX-1", address, "--by", "sam@example.org")
    assert again.exit_code == 1 and "already waiting for a second person" in again.output
    assert _waiting() == [False]
    bad = ana("experts", "new-address", "EX-9", address, "--by", "sam@example.org")
    assert bad.exit_code == 1 and "no expert" in bad.output


def test_the_old_address_can_be_recorded_as_still_safe(ana: Invoke) -> None:
    safe = ana(
        "experts", "new-address", "EX-1", "3 New Street\\nDundee DD2 2BB",
        "--by", "sam@example.org", "--old-address-safe",
    )  # fmt: skip
    assert safe.exit_code == 0, safe.output
    assert "Letters keep going to the old address" in safe.output
    assert _waiting() == [True]
