"""Finding someone's messages in the delivery log from what an administrator has to hand:
a reference typed in any case, a name, a phone number or an email address. What is typed
is posted, never put in an address; bad input is a sentence by the box."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from store.enums import Role
from tests.builders import add_engagement, add_expert
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"


async def _people(app: App) -> dict[str, int]:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Admin", email=ADMIN, role=Role.ADMIN)
        await add_account(app, session)
        ana = await add_expert(app, session, ref="EX-01", preferred_name="Ana Long")
        anya = await add_expert(
            app,
            session,
            ref="EX-02",
            preferred_name="Anya Siobhán Reid",
            phone="07123 456780",
            preferred_channel="email",
            fallback_channels=["sms"],
            email="Anya.Reid@Example.net",
            consent={"email": {"allowed": True}, "sms": {"allowed": True}},
        )
        await add_engagement(app, session, experts=[ana, anya])
        return {"ana": ana.id, "anya": anya.id}


async def test_a_reference_is_found_whatever_its_case(app: App) -> None:
    ids = await _people(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get("/admin/delivery?expert=ex-01")
    assert page.status_code == 200
    assert "EX-01 · Pre-brief" in page.text and "EX-02" not in page.text
    assert ids


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("anya", "anya"),  # the start of a name, any case
        ("reid anya", "anya"),  # words in any order
        ("siobhan", "anya"),  # without the accent
        ("07123 456780", "anya"),  # a phone number, through the blind index
        ("+44 7123 456780", "anya"),  # the same number written another way
        ("anya.reid@example.NET", "anya"),  # an email address, any case
        ("ex-01", "ana"),  # a reference in the search box too
    ],
)
async def test_one_match_opens_their_messages_without_the_search_in_the_address(
    app: App, typed: str, who: str
) -> None:
    ids = await _people(app)
    async with signed_in(app, ADMIN) as admin:
        answer = await admin.post("/admin/delivery/search", {"q": typed})
        assert answer.status_code == 303
        where = answer.headers["location"]
        assert where == f"/admin/delivery?person={ids[who]}"
        page = await admin.get(where)
    ref = "EX-02" if who == "anya" else "EX-01"
    assert page.status_code == 200 and f"to {ref}" in page.text
    assert f"{ref} · Pre-brief" in page.text


async def test_several_matches_are_listed_to_choose_from(app: App) -> None:
    ids = await _people(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.post("/admin/delivery/search", {"q": "an"})
    assert page.status_code == 200
    assert "2 matches" in page.text
    for expert_id in ids.values():
        assert f'href="/admin/delivery?person={expert_id}"' in page.text


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Enter a name, reference, phone number or email address"),
        ("   ", "Enter a name, reference, phone number or email address"),
        ("x" * 201, "Enter at most 200 characters"),
        ("not@an@address", "is not a valid email address"),
        ("0000 000000", "is not a valid phone number"),
        ("!!!", "Enter a name with at least one letter"),
    ],
)
async def test_a_search_that_cannot_be_done_says_why_by_the_box(
    app: App, typed: str, words: str
) -> None:
    await _people(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.post("/admin/delivery/search", {"q": typed})
    assert page.status_code == 400
    assert 'id="q-error"' in page.text and words in page.text
    assert 'href="#q"' in page.text


async def test_nobody_found_says_so_and_a_stale_person_link_is_an_error(app: App) -> None:
    await _people(app)
    async with signed_in(app, ADMIN) as admin:
        page = await admin.post("/admin/delivery/search", {"q": "zebedee"})
        stale = await admin.get("/admin/delivery?person=999999")
        junk = await admin.get("/admin/delivery?person=abc")
    assert page.status_code == 200 and "Nobody matches that" in page.text
    assert stale.status_code == 400 and "no longer on record" in stale.text
    assert junk.status_code == 400


async def test_a_link_worker_cannot_search_the_log(app: App) -> None:
    await _people(app)
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.post("/admin/delivery/search", {"q": "anya"})
    assert page.status_code == 404
