"""Staff accounts: administrators add people, change roles, set passwords, unlock, choose
where alerts go and close accounts; nobody is left without an administrator or a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.staff.accounts import StaffError, close_staff
from scheduling.people.tasks import open_task
from store.enums import Channel, Role, TaskKind
from store.models import Staff, Task
from tests.builders import add_expert
from tests.staff_client import PASSWORD, add_account, signed_in, staff_client

ADMIN = "alex@example.org"
WORKER = "sam@example.org"
NEW_PASSWORD = "blue kettle morning river"


async def _team(app: App) -> tuple[Staff, Staff]:
    async with app.sessions.begin() as session:
        admin = await add_account(app, session, name="Alex Reid", email=ADMIN, role=Role.ADMIN)
        worker = await add_account(app, session, name="Sam Taylor", email=WORKER)
    return admin, worker


async def _staff(app: App, staff_id: int) -> Staff:
    async with app.sessions() as session:
        staff = await session.get(Staff, staff_id)
        assert staff is not None
        return staff


async def _count_staff(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count(Staff.id))) or 0)


async def test_link_workers_find_no_staff_pages_at_all(app: App) -> None:
    admin, worker = await _team(app)
    async with signed_in(app, WORKER) as client:
        for path in ("/admin/staff", "/admin/staff/new", f"/admin/staff/{admin.id}"):
            assert (await client.get(path)).status_code == 404, path
        posts = {
            "/admin/staff/new": {
                "name": "Jo Bloggs",
                "email": "jo@example.org",
                "role": "admin",
                "password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
            f"/admin/staff/{worker.id}/role": {"role": "admin"},
            f"/admin/staff/{admin.id}/password": {
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
            f"/admin/staff/{admin.id}/unlock": {},
            f"/admin/staff/{admin.id}/close": {"confirm_close": "yes"},
            f"/admin/staff/{admin.id}/alerts": {"alert_channel": "email"},
        }
        for path, form in posts.items():
            assert (await client.post(path, form)).status_code == 404, path
    assert (await _staff(app, worker.id)).role is Role.LINK_WORKER
    assert (await _staff(app, admin.id)).active
    assert await _count_staff(app) == 2


async def test_the_list_shows_roles_locks_and_last_sign_in_in_uk_time(app: App) -> None:
    app.clock.set(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    admin, worker = await _team(app)
    async with app.sessions.begin() as session:
        row = await session.get(Staff, worker.id)
        assert row is not None
        row.locked_until = app.clock.now() + timedelta(minutes=10)
        row.cover_id = admin.id
    async with signed_in(app, ADMIN) as client:
        page = await client.get("/admin/staff")
    assert page.status_code == 200
    text = page.text
    assert "Alex Reid" in text and "Sam Taylor" in text
    assert "Administrator" in text and "Link worker" in text
    assert "Locked until 09:10" in text  # 08:10 UTC is 09:10 in summer
    assert "1 Jun 2026, 09:00" in text  # Alex signed in just now, in UK time
    assert "Never" in text  # Sam has not signed in


async def test_an_administrator_adds_someone_who_can_then_sign_in(app: App) -> None:
    await _team(app)
    async with signed_in(app, ADMIN) as client:
        form = await client.get("/admin/staff/new")
        assert form.status_code == 200 and "Add a member of staff" in form.text
        done = await client.post(
            "/admin/staff/new",
            {
                "name": "Jo Bloggs",
                "email": "Jo@Example.org",
                "role": "admin",
                "password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert done.status_code == 303
        shown = await client.get(done.headers["location"])
        assert "They can now sign in" in shown.text
        assert "jo@example.org" in shown.text
    async with staff_client(app) as newcomer:
        assert (await newcomer.sign_in("jo@example.org", NEW_PASSWORD)).status_code == 303
        assert (await newcomer.get("/admin/staff")).status_code == 200  # an administrator


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({}, "name", "Enter their full name"),
        ({"name": "Jo"}, "email", "Enter their work email address"),
        ({"name": "Jo", "email": "jo@"}, "email", "is not a valid email address"),
        ({"name": "Jo", "email": ADMIN}, "email", "already exists"),
        ({"name": "Jo", "email": "jo@example.org"}, "role", "Choose whether they are"),
        ({"password": "short"}, "password", "Use at least 12 characters"),
        ({"password": "password1234"}, "password", "too easy to guess"),
        ({"confirm_password": "something else"}, "confirm_password", "not the same"),
    ],
)
async def test_the_new_staff_form_refuses_bad_input_and_saves_nothing(
    app: App, form: dict[str, str], field: str, message: str
) -> None:
    await _team(app)
    full = {
        "name": "Jo Bloggs",
        "email": "jo@example.org",
        "role": "link_worker",
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    if field in ("name", "email", "role"):
        full = {k: v for k, v in full.items() if k not in ("name", "email", "role")}
    full.update(form)
    if field == "password":
        full["confirm_password"] = full["password"]
    async with signed_in(app, ADMIN) as client:
        page = await client.post("/admin/staff/new", full)
    assert page.status_code == 400
    assert f'id="{field}-error"' in page.text
    assert message in page.text.replace("&#34;", '"')
    assert await _count_staff(app) == 2


async def test_the_only_administrator_cannot_stop_being_one(app: App) -> None:
    admin, worker = await _team(app)
    async with signed_in(app, ADMIN) as client:
        refused = await client.post(f"/admin/staff/{admin.id}/role", {"role": "link_worker"})
        assert refused.status_code == 400
        assert 'id="role-error"' in refused.text
        assert "only active administrator" in refused.text
        assert (await _staff(app, admin.id)).role is Role.ADMIN
        nothing = await client.post(f"/admin/staff/{worker.id}/role", {"role": "chief"})
        assert nothing.status_code == 400 and "Choose link worker or administrator" in nothing.text
        assert (await _staff(app, worker.id)).role is Role.LINK_WORKER

        promoted = await client.post(f"/admin/staff/{worker.id}/role", {"role": "admin"})
        assert promoted.status_code == 303
        assert (
            "They are now an administrator" in (await client.get(promoted.headers["location"])).text
        )
        # With a second administrator, stepping down is fine, and the pages close to them.
        stepped = await client.post(f"/admin/staff/{admin.id}/role", {"role": "link_worker"})
        assert (stepped.status_code, stepped.headers["location"]) == (303, "/")
        assert (await _staff(app, admin.id)).role is Role.LINK_WORKER
        assert (await client.get("/admin/staff")).status_code == 404


async def test_a_new_password_signs_them_out_everywhere(app: App) -> None:
    admin, worker = await _team(app)
    async with signed_in(app, WORKER) as sam, signed_in(app, ADMIN) as alex:
        assert (await sam.get("/")).status_code == 200
        short = await alex.post(
            f"/admin/staff/{worker.id}/password",
            {"new_password": "short", "confirm_password": "short"},
        )
        assert short.status_code == 400 and 'id="new_password-error"' in short.text
        differ = await alex.post(
            f"/admin/staff/{worker.id}/password",
            {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!"},
        )
        assert differ.status_code == 400 and 'id="confirm_password-error"' in differ.text
        assert (await sam.get("/")).status_code == 200  # nothing was saved

        done = await alex.post(
            f"/admin/staff/{worker.id}/password",
            {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        )
        assert done.status_code == 303
        assert "signed out everywhere" in (await alex.get(done.headers["location"])).text
        assert (await sam.get("/")).status_code == 303
        # Their own password, set here, keeps the administrator signed in.
        mine = await alex.post(
            f"/admin/staff/{admin.id}/password",
            {
                "new_password": "green apple winter song",
                "confirm_password": "green apple winter song",
            },
        )
        assert mine.status_code == 303 and (await alex.get("/admin/staff")).status_code == 200
    async with staff_client(app) as client:
        assert (await client.sign_in(WORKER, PASSWORD)).status_code == 400
        assert (await client.sign_in(WORKER, NEW_PASSWORD)).status_code == 303


async def test_an_administrator_unlocks_an_account(app: App) -> None:
    _, worker = await _team(app)
    async with staff_client(app) as sam:
        for _ in range(5):
            await sam.sign_in(WORKER, "guess guess guess")
        assert (await sam.sign_in(WORKER)).status_code == 400
        async with signed_in(app, ADMIN) as alex:
            page = await alex.get(f"/admin/staff/{worker.id}")
            assert "Locked after wrong passwords" in page.text and "Unlock account" in page.text
            done = await alex.post(f"/admin/staff/{worker.id}/unlock")
            assert done.status_code == 303
        assert (await _staff(app, worker.id)).locked_until is None
        assert (await sam.sign_in(WORKER)).status_code == 303


async def test_alerts_go_where_the_administrator_says(app: App) -> None:
    _, worker = await _team(app)
    path = f"/admin/staff/{worker.id}/alerts"
    async with signed_in(app, ADMIN) as alex:
        none = await alex.post(path, {})
        assert none.status_code == 400 and 'id="alert_channel-error"' in none.text
        bad = await alex.post(path, {"alert_channel": "sms", "alert_phone": "not a number"})
        assert bad.status_code == 400 and 'id="alert_phone-error"' in bad.text
        assert "not usable" in bad.text
        empty = await alex.post(path, {"alert_channel": "sms"})
        assert empty.status_code == 400 and "Enter a mobile number" in empty.text
        chat = await alex.post(path, {"alert_channel": "telegram", "alert_chat": "abc"})
        assert chat.status_code == 400 and 'id="alert_chat-error"' in chat.text
        assert (await _staff(app, worker.id)).alert_channel is None  # nothing saved

        done = await alex.post(path, {"alert_channel": "sms", "alert_phone": "07123 000111"})
        assert done.status_code == 303
        page = await alex.get(f"/admin/staff/{worker.id}")
        assert "number ending 111" in page.text and "07123 000111" not in page.text
    saved = await _staff(app, worker.id)
    assert saved.alert_channel is Channel.SMS and saved.alert_to == "+447123000111"


async def test_closing_waits_until_their_experts_are_handed_on(app: App) -> None:
    admin, worker = await _team(app)
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
    path = f"/admin/staff/{worker.id}/close"
    async with signed_in(app, ADMIN) as alex:
        page = await alex.get(f"/admin/staff/{worker.id}")
        assert "still the link worker for 1 expert" in page.text
        unticked = await alex.post(path, {})
        assert unticked.status_code == 400 and 'id="confirm_close-error"' in unticked.text
        refused = await alex.post(path, {"confirm_close": "yes"})
        assert refused.status_code == 400 and 'id="confirm_close-error"' in refused.text
        assert "still the link worker for 1 expert" in refused.text
        assert "Hand each of them to another link worker first" in refused.text
        assert (await _staff(app, worker.id)).active

        mine = await alex.post(f"/admin/staff/{admin.id}/close", {"confirm_close": "yes"})
        assert mine.status_code == 400 and "cannot close your own account" in mine.text
        assert (await _staff(app, admin.id)).active
    del expert


async def test_a_closed_account_is_signed_out_and_its_tasks_come_to_the_closer(
    app: App,
) -> None:
    admin, worker = await _team(app)
    async with app.sessions.begin() as session:
        task = await open_task(
            session,
            kind=TaskKind.PHONE_CALL,
            title="Phone call to make",
            now=app.clock.now(),
            assignee=await session.get(Staff, worker.id),
        )
    async with signed_in(app, WORKER) as sam, signed_in(app, ADMIN) as alex:
        assert (await sam.get("/")).status_code == 200
        done = await alex.post(f"/admin/staff/{worker.id}/close", {"confirm_close": "yes"})
        assert done.status_code == 303
        shown = await alex.get(done.headers["location"])
        assert "account is closed" in shown.text and "1 open task is now yours" in shown.text
        assert (await sam.get("/")).status_code == 303  # their session stopped working
        again = await alex.post(f"/admin/staff/{worker.id}/role", {"role": "admin"})
        assert again.status_code == 400 and "account is closed" in again.text
    async with app.sessions() as session:
        moved = await session.get(Task, task.id)
        assert moved is not None and moved.assignee_id == admin.id
    assert not (await _staff(app, worker.id)).active
    async with staff_client(app) as client:
        assert (await client.sign_in(WORKER)).status_code == 400


async def test_the_last_administrator_can_never_be_closed(app: App) -> None:
    admin, worker = await _team(app)
    async with app.sessions.begin() as session:
        target = await session.get(Staff, admin.id)
        by = await session.get(Staff, worker.id)
        assert target is not None and by is not None
        with pytest.raises(StaffError, match="only active administrator"):
            await close_staff(session, target, by=by, now=app.clock.now(), actor="test")
    assert (await _staff(app, admin.id)).active


async def test_an_unknown_staff_id_is_not_found(app: App) -> None:
    await _team(app)
    async with signed_in(app, ADMIN) as alex:
        assert (await alex.get("/admin/staff/999")).status_code == 404
        assert (await alex.post("/admin/staff/999/unlock")).status_code == 404
