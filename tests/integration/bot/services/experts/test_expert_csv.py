"""Importing and exporting experts as CSV: what a link worker with a spreadsheet sees."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App, build_app
from bot.services.experts.csv_files import (
    COLUMNS,
    MAX_ROWS,
    ParsedRow,
    RowError,
    export_experts,
    import_experts,
    parse_csv,
)
from bot.services.experts.profile import load_experts
from store.enums import Channel, ExpertStatus
from store.models import AuditEvent, Expert
from tests.builders import add_expert, add_staff
from tests.conftest import make_settings

GOOD = {
    "ref": "A1",
    "preferred_name": "Ana Morrison",
    "link_worker": "sam@example.org",
    "preferred_channel": "sms",
    "phone": "07123 456789",
    "consent_sms": "yes",
    "consent_confirmed_on": "2026-01-05",
    "consent_confirmed_by": "sam@example.org",
}
SECOND = {**GOOD, "ref": "B2", "preferred_name": "Ben Adeyemi", "phone": "07123 456790"}


def csv_of(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def only_error(text: str) -> RowError:
    rows, errors = parse_csv(text)
    assert rows == [] or len(errors) == 1, (rows, errors)
    assert len(errors) == 1, errors
    return errors[0]


async def import_text(app: App, text: str, **kwargs: Any) -> list[RowError]:
    rows, errors = parse_csv(text)
    assert errors == []
    async with app.sessions.begin() as session:
        return await import_experts(
            session, app.cipher, rows, actor="test", now=app.clock.now(), **kwargs
        )


async def count_experts(app: App) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Expert)) or 0


# Reading the file


def test_good_rows_become_experts_with_consent_and_safe_hours() -> None:
    full = {**GOOD, "fallback_channels": "email", "email": "Ana@Example.org",
            "details_safe": "sms", "safe_days": "mon-fri", "safe_hours": "09:00-17:00",
            "discreet": "No", "access_needs": "large_print;easy_read"}  # fmt: skip
    rows, errors = parse_csv(csv_of(full, SECOND))
    assert errors == []
    assert [row.line for row in rows] == [2, 3]
    ana = rows[0].expert
    assert ana.phone == "+447123456789"
    assert ana.email == "ana@example.org"
    assert ana.fallback_channels == [Channel.EMAIL]
    assert ana.consent[Channel.SMS].allowed and ana.consent[Channel.SMS].details_safe
    assert [(w.days, w.hours, w.channel) for w in ana.windows] == [("mon-fri", "09:00-17:00", None)]
    assert ana.discreet is False
    assert rows[1].expert.discreet is True  # a blank cell keeps the safe default


def test_only_the_three_required_columns_are_needed() -> None:
    text = "preferred_name,link_worker,preferred_channel,email\nAna,sam@example.org,email,a@b.org\n"
    rows, errors = parse_csv(text)
    assert errors == []
    assert rows[0].expert.consent == {}


def test_blank_lines_are_skipped_but_line_numbers_match_the_spreadsheet() -> None:
    header, good, bad, _ = csv_of(GOOD, {**SECOND, "phone": "12345"}).split("\r\n")
    rows, errors = parse_csv("\n".join([header, good, "", ",,,", bad]))  # lines 1 to 5
    assert [row.line for row in rows] == [2]
    assert [(e.row, e.column) for e in errors] == [(5, "phone")]


def test_a_byte_order_mark_from_excel_is_ignored() -> None:
    rows, errors = parse_csv("\ufeff" + csv_of(GOOD))
    assert errors == []
    assert rows[0].expert.ref == "A1"


def test_a_postal_address_uses_semicolons_between_lines() -> None:
    letter = {**GOOD, "preferred_channel": "letter", "postal_address": "1 Leith Walk; EH6 1AA"}
    rows, _ = parse_csv(csv_of(letter))
    assert rows[0].expert.postal_address == "1 Leith Walk\nEH6 1AA"


@pytest.mark.parametrize(
    ("cells", "column", "says"),
    [
        ({"preferred_channel": "fax"}, "preferred_channel", "unknown channel 'fax'"),
        ({"fallback_channels": "email;pigeon"}, "fallback_channels", "unknown channel"),
        ({"phone": "12345"}, "phone", "not a valid phone number"),
        ({"email": "ana@"}, "email", "not a valid email address"),
        ({"discreet": "maybe"}, "discreet", "is not yes or no"),
        ({"consent_sms": "sure"}, "consent_sms", "is not yes or no"),
        ({"consent_confirmed_on": "2026-02-30"}, "consent_confirmed_on", "not a real date"),
        ({"consent_confirmed_by": ""}, "(row)", "consent needs consent_confirmed_on"),
        ({"preferred_name": ""}, "preferred_name", "required"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
        ({"access_needs": "braille"}, "access_needs", "large_print"),
        ({"safe_days": "mon-fri"}, "safe_hours", "safe_days and safe_hours go together"),
        ({"safe_days": "funday", "safe_hours": "9-17"}, "safe_days", "recognise the day"),
        ({"safe_days": "mon", "safe_hours": "nine"}, "safe_hours", "can't read the hours"),
        ({"details_safe": "email"}, "details_safe", "consent_email is not yes"),
        ({"preferred_channel": "email"}, "(row)", "there is no email"),
    ],
)
def test_a_bad_cell_is_reported_by_line_and_column(
    cells: dict[str, str], column: str, says: str
) -> None:
    error = only_error(csv_of({**GOOD, **cells}))
    assert (error.row, error.column) == (2, column)
    assert says in error.message


def test_problems_never_repeat_the_contact_details_back() -> None:
    _, errors = parse_csv(csv_of({**GOOD, "phone": "12345", "email": "ana@"}))
    assert {e.column for e in errors} == {"phone", "email"}
    assert not any("12345" in e.message or "ana@" in e.message for e in errors)


def test_every_problem_in_the_file_is_reported_at_once() -> None:
    third = {**SECOND, "ref": "C3", "phone": "07911 123456", "email": "x@"}
    rows, errors = parse_csv(csv_of({**GOOD, "phone": "12345"}, SECOND, third))
    assert [(e.row, e.column) for e in errors] == [(2, "phone"), (4, "email")]
    assert [row.line for row in rows] == [3]


def test_an_unknown_column_is_named_with_a_suggestion() -> None:
    error = only_error(csv_of(GOOD, columns=(*GOOD, "phone_number")))
    assert (error.row, error.column) == (1, "phone_number")
    assert "unknown column 'phone_number'" in error.message
    assert "did you mean phone?" in error.message


def test_a_missing_required_column_is_named() -> None:
    columns = tuple(c for c in GOOD if c != "link_worker")
    error = only_error(csv_of({k: v for k, v in GOOD.items() if k in columns}, columns=columns))
    assert (error.row, error.column) == (1, "link_worker")
    assert "required column link_worker is missing" in error.message


@pytest.mark.parametrize(
    "change", [lambda line: line + ",extra", lambda line: line[: line.rindex(",")]]
)
def test_a_row_with_too_many_or_too_few_cells_is_reported(change: Any) -> None:
    header, row, _ = csv_of(GOOD).split("\r\n")
    error = only_error(f"{header}\n{change(row)}\n")
    assert (error.row, error.column) == (2, "(row)")
    assert f"the header line has {len(COLUMNS)}" in error.message


def test_the_same_phone_number_on_two_rows_is_reported_on_the_later_row() -> None:
    _, errors = parse_csv(csv_of(GOOD, {**SECOND, "phone": "+44 7123 456789"}))
    assert [(e.row, e.column) for e in errors] == [(3, "phone")]
    assert errors[0].message == (
        "the same phone number is on row 2: each person needs their own contact details"
    )


def test_the_same_email_or_ref_on_two_rows_is_reported() -> None:
    first = {**GOOD, "email": "ana@example.org"}
    again = {**SECOND, "ref": "A1", "email": "ANA@example.org"}
    _, errors = parse_csv(csv_of(first, again))
    assert {(e.row, e.column) for e in errors} == {(3, "ref"), (3, "email")}


@pytest.mark.parametrize("text", ["", "\ufeff", csv_of(), csv_of() + "\n\n"])
def test_an_empty_file_or_a_header_alone_says_the_file_has_no_rows(text: str) -> None:
    error = only_error(text)
    assert error.message.startswith("the file has no rows")


def test_a_file_over_the_row_limit_gives_one_error() -> None:
    text = csv_of() + "x\n" * (MAX_ROWS + 1)
    error = only_error(text)
    assert error.row == MAX_ROWS + 2
    assert "more than 10,000 rows" in error.message


# Importing into the database


async def test_a_good_file_adds_every_expert_and_reports_progress(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_staff(session)
    seen: list[int] = []
    assert await import_text(app, csv_of(GOOD, SECOND), progress=seen.append) == []
    assert seen == [1, 2]
    async with app.sessions() as session:
        experts = await load_experts(session)
    assert [e.preferred_name for e in experts] == ["Ana Morrison", "Ben Adeyemi"]
    assert [c.channel for c in experts[0].consents if c.allowed] == [Channel.SMS]


async def test_an_unknown_link_worker_means_nothing_is_written(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_staff(session)
    stranger = {**SECOND, "link_worker": "kim@example.org"}
    errors = await import_text(app, csv_of(GOOD, stranger, {**SECOND, "ref": "C3",
                                                            "phone": "07911 123456"}))  # fmt: skip
    assert [(e.row, e.column) for e in errors] == [(3, "link_worker")]
    assert "no staff member has this email" in errors[0].message
    assert await count_experts(app) == 0


async def test_a_ref_already_in_linkline_is_refused(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_expert(app, session, ref="A1", phone="07911 123456")
    errors = await import_text(app, csv_of(GOOD, SECOND))
    assert [(e.row, e.column) for e in errors] == [(2, "ref")]
    assert await count_experts(app) == 1


async def test_a_phone_number_that_belongs_to_another_expert_is_refused(app: App) -> None:
    async with app.sessions.begin() as session:
        existing = await add_expert(app, session, phone="+44 7123 456790")
    errors = await import_text(app, csv_of(GOOD, SECOND))
    assert errors == [
        RowError(
            3, "phone", f"this phone number already belongs to expert {existing.id} in Linkline"
        )
    ]
    assert await count_experts(app) == 1


async def test_a_failure_half_way_through_leaves_nothing_half_imported(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_staff(session)

    def stop_at_second_row(done: int) -> None:
        if done == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        await import_text(app, csv_of(GOOD, SECOND), progress=stop_at_second_row)
    assert await count_experts(app) == 0


# Exporting


def snapshot(expert: Expert) -> dict[str, Any]:
    return {
        "ref": expert.ref,
        "name": expert.preferred_name,
        "link_worker": expert.link_worker.email,
        "zone_language": (expert.time_zone, expert.language),
        "channels": expert.channel_order(),
        "consent": sorted(
            (c.channel, c.allowed, c.details_safe, c.confirmed_on, c.confirmed_by.email)
            for c in expert.consents
        ),
        "windows": sorted((str(w.channel), w.days, w.start, w.end) for w in expert.windows),
        "contacts": sorted((p.channel, p.value, p.verified_at) for p in expert.contact_points),
        "rest": (
            expert.access_needs,
            expert.discreet,
            expert.pastoral_level,
            expert.payment_preference,
        ),
    }


VARIED = [
    {**GOOD, "fallback_channels": "email;letter", "email": "ana@example.org",
     "postal_address": "Flat 2; 1 Leith Walk; Edinburgh EH6 1AA", "consent_email": "yes",
     "consent_letter": "yes", "details_safe": "email;letter", "consent_confirmed_by":
     "lee@example.org", "safe_days": "mon-fri;sms: sat", "safe_hours": "09:00-17:30;10:00-12:00",
     "discreet": "no", "access_needs": "large_print", "pastoral_level": "monthly",
     "payment_preference": "bank transfer", "time_zone": "Europe/Paris", "language": "fr"},
    {"preferred_name": "Ben Adeyemi", "link_worker": "lee@example.org",
     "preferred_channel": "telegram", "telegram_chat_id": "-1001234567",
     "phone": "+33 6 12 34 56 78", "fallback_channels": "phone"},
    {**SECOND, "ref": "C3", "preferred_name": "Cat O'Neill", "phone": "07911 123456"},
]  # fmt: skip


async def second_database(tmp_path: Path, app: App) -> App:
    folder = tmp_path / "second"
    url = f"sqlite:///{folder / 'linkline.db'}"
    fresh = await build_app(make_settings(folder, url), clock=app.clock, upgrade=True)
    async with fresh.sessions.begin() as session:
        await add_staff(session)
        await add_staff(session, name="Lee Jones", email="lee@example.org")
    return fresh


async def test_an_export_imports_into_a_fresh_database_as_the_same_experts(
    app: App, tmp_path: Path
) -> None:
    async with app.sessions.begin() as session:
        await add_staff(session)
        await add_staff(session, name="Lee Jones", email="lee@example.org")
    assert await import_text(app, csv_of(*VARIED)) == []
    async with app.sessions.begin() as session:
        exported = await export_experts(session, actor="test", now=app.clock.now())
        before = [snapshot(e) for e in await load_experts(session)]
    assert (exported.count, exported.consent_withheld) == (3, 0)
    fresh = await second_database(tmp_path, app)
    try:
        assert await import_text(fresh, exported.text) == []
        async with fresh.sessions() as session:
            after = [snapshot(e) for e in await load_experts(session)]
    finally:
        await fresh.aclose()
    assert after == before
    assert len(before[0]["windows"]) == 2 and len(before[0]["contacts"]) == 4


async def test_an_export_records_how_many_not_who(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_expert(app, session)
        exported = await export_experts(session, actor="test", now=app.clock.now())
    assert exported.text.splitlines()[0] == ",".join(COLUMNS)
    async with app.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "experts.exported")
        )
    assert event is not None and event.data == {"count": 1}


async def test_consent_is_left_out_of_the_export_for_someone_who_withdrew(app: App) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        expert.status = ExpertStatus.WITHDRAWN
    async with app.sessions.begin() as session:
        exported = await export_experts(session, actor="test", now=app.clock.now())
    assert exported.consent_withheld == 1
    rows, errors = parse_csv(exported.text)
    assert errors == [] and rows[0].expert.consent == {}


async def test_a_name_that_looks_like_a_formula_stays_text_in_a_spreadsheet(app: App) -> None:
    async with app.sessions.begin() as session:
        await add_expert(app, session, preferred_name='=HYPERLINK("x")')
        exported = await export_experts(session, actor="test", now=app.clock.now())
    cells = next(csv.DictReader(io.StringIO(exported.text)))
    assert cells["preferred_name"].startswith("'=")
    assert cells["phone"] == "07123 456789"
    rows, _ = parse_csv(exported.text)
    assert rows == [ParsedRow(2, rows[0].expert)]
    assert rows[0].expert.preferred_name == '=HYPERLINK("x")'
    assert rows[0].expert.consent_confirmed_on == date(2026, 1, 5)


# Odd characters and lengths (M-4, M-5): by line and column, the same on both databases


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"preferred_name": "Ana\x00Morrison"}, "preferred_name"),
        ({"payment_preference": "bank\x00transfer"}, "payment_preference"),
        ({"ref": "A\x1b1"}, "ref"),
        ({"preferred_name": "Ana\nMorrison"}, "preferred_name"),  # one line only
        ({"postal_address": "1 High St\x07; Perth PH1 1ZZ"}, "postal_address"),
    ],
)
def test_a_control_character_is_refused_by_line_and_column(
    cells: dict[str, str], column: str
) -> None:
    error = only_error(csv_of(GOOD, {**SECOND, **cells}))
    assert (error.row, error.column) == (3, column)
    assert "cannot be typed" in error.message


def test_an_address_may_run_over_several_lines() -> None:
    rows, errors = parse_csv(csv_of({**GOOD, "postal_address": "1 High St\nPerth PH1 1ZZ"}))
    assert errors == [] and len(rows) == 1


def test_a_payment_preference_over_the_limit_is_reported_by_line_and_column() -> None:
    error = only_error(csv_of(GOOD, {**SECOND, "payment_preference": "x" * 201}))
    assert (error.row, error.column) == (3, "payment_preference")
    assert "200 characters" in error.message


@pytest.mark.db_contract
async def test_a_long_payment_preference_imports_on_both_databases(app: App) -> None:
    """PostgreSQL refused more than 40 characters, for the whole file, with no line."""
    async with app.sessions.begin() as session:
        await add_staff(session)
    paid = "by bank transfer, never by cheque: no post to the house, please"
    assert await import_text(app, csv_of({**GOOD, "payment_preference": paid})) == []
    async with app.sessions() as session:
        [expert] = await load_experts(session)
    assert expert.payment_preference == paid
