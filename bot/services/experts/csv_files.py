"""Experts in and out as CSV, the form link workers already keep their lists in.

Import is all or nothing: every row is checked against the file and then the database
before anything is written, so a half-fixed spreadsheet never leaves half its people in
Linkline. Errors name the spreadsheet line and column but never repeat a contact detail.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.services.contact_details import _unguard, guard_formula, phone_for_people
from bot.services.experts.details import FALLBACK_ZONE, ExpertInput
from bot.services.experts.profile import create_expert, is_paused, load_experts
from scheduling.rules.characters import typeable
from scheduling.text.payment_words import choice_words
from store import audit
from store.crypto import Cipher
from store.enums import Channel, ExpertStatus
from store.models import ContactPoint, Expert, Staff

Column = InstrumentedAttribute[Any]
COLUMNS = (
    "ref", "preferred_name", "link_worker", "time_zone", "language", "preferred_channel",
    "fallback_channels", "phone", "telegram_chat_id", "email", "postal_address",
    "consent_sms", "consent_telegram", "consent_email", "consent_letter", "consent_phone",
    "details_safe", "consent_confirmed_on", "consent_confirmed_by", "safe_days", "safe_hours",
    "access_needs", "discreet", "pastoral_level", "payment_preference",
)  # fmt: skip
REQUIRED = ("preferred_name", "link_worker", "preferred_channel")
MAX_ROWS = 10_000
FILE, ROW = "(file)", "(row)"  # where a problem is not about one cell
# Cells ExpertInput reads as they are; the others are yes/no, consent or windows.
_SHAPED = {f"consent_{c.value}" for c in Channel} | {"details_safe", "safe_days", "safe_hours"}
_PLAIN = tuple(c for c in COLUMNS if c not in {*_SHAPED, "discreet"})
_LISTS = ("fallback_channels", "access_needs")
_OWN = {"phone": "phone number", "email": "email address", "telegram_chat_id": "Telegram chat id"}
_PRIVATE = (*_OWN, "postal_address")  # never repeated back in an error message
_MULTI_LINE = frozenset({"postal_address"})  # the one cell that may hold line breaks
_UNTYPEABLE = (
    "this cell holds a character that cannot be typed (a control character such as NUL, "
    "or a line break or tab in a one-line cell): remove it"
)
_BOOLS = {"yes": True, "y": True, "true": True, "1": True}
_BOOLS |= {"no": False, "n": False, "false": False, "0": False}


# A spreadsheet runs a cell starting with one of these as a formula: export guards it with "'".
@dataclass(frozen=True)
class RowError:
    row: int  # the line a spreadsheet shows: header is 1, first data row is 2
    column: str
    message: str


@dataclass(frozen=True)
class ParsedRow:
    line: int
    expert: ExpertInput


@dataclass(frozen=True)
class ExpertExport:
    text: str
    count: int
    consent_withheld: int  # paused, withdrawn or opted out: re-importing must not restart contact


def parse_csv(
    text: str, *, time_zone: str = FALLBACK_ZONE
) -> tuple[list[ParsedRow], list[RowError]]:
    """Check every row without touching the database; errors are collected, never raised.

    ``time_zone`` is the organisation's, for a row that leaves its time_zone cell empty.
    """
    records, problem = _read(text.removeprefix("\ufeff"))
    if problem or not records:
        return [], [problem or RowError(1, FILE, "the file has no rows, not even a header line")]
    header = [name.strip().lower() for name in records[0]]
    if errors := _check_header(header):
        return [], errors
    body = [(n, cells) for n, cells in enumerate(records[1:], 2) if any(c.strip() for c in cells)]
    if not body:
        return [], [RowError(1, FILE, "the file has no rows: add one line for each expert")]
    if len(body) > MAX_ROWS:
        message = f"the file has more than {MAX_ROWS:,} rows: split it into smaller files"
        return [], [RowError(body[MAX_ROWS][0], FILE, message)]
    parsed: list[ParsedRow] = []
    errors = []
    for line, cells in body:
        if len(cells) != len(header):
            message = f"this row has {len(cells)} cells but the header line has {len(header)}"
            errors.append(RowError(line, ROW, message))
            continue
        expert, row_errors = _parse_row(line, dict(zip(header, cells, strict=True)), time_zone)
        errors += row_errors
        if expert is not None:
            parsed.append(ParsedRow(line, expert))
    errors += _repeats_in_file(parsed)
    return parsed, sorted(errors, key=lambda e: e.row)


def _read(text: str) -> tuple[list[list[str]], RowError | None]:
    reader = csv.reader(io.StringIO(text))
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        return [], RowError(len(records) + 2, FILE, f"this is not readable as CSV: {exc}")
    return records, None


def _check_header(header: list[str]) -> list[RowError]:
    errors = []
    for position, name in enumerate(header, 1):
        if not name:
            errors.append(RowError(1, f"column {position}", "this column has no name"))
        elif name not in COLUMNS:
            hint = difflib.get_close_matches(name, COLUMNS, n=1, cutoff=0.5)
            tip = f" (did you mean {hint[0]}?)" if hint else ": see the README for the columns"
            errors.append(RowError(1, name, f"unknown column {name!r}{tip}"))
        elif header.count(name) > 1 and header.index(name) + 1 == position:
            errors.append(RowError(1, name, f"the column {name} appears more than once"))
    for name in REQUIRED:
        if name not in header:
            errors.append(RowError(1, name, f"the required column {name} is missing"))
    return errors


def _parse_row(
    line: int, raw: dict[str, str], time_zone: str
) -> tuple[ExpertInput | None, list[RowError]]:
    cells = {name: _unguard(value).strip() for name, value in raw.items()}
    errors: list[RowError] = []
    data: dict[str, Any] = {k: v for k, v in cells.items() if v and k in _PLAIN}
    data.setdefault("time_zone", time_zone)
    for column in _LISTS:  # split here so each item gets ExpertInput's own clear message
        data[column] = _split(cells.get(column, "").replace(",", ";"))
    if (discreet := _boolean(line, cells, "discreet", errors)) is not None:
        data["discreet"] = discreet
    data["consent"] = _consent(line, cells, errors)
    data["windows"] = _windows(line, cells, errors)
    spoiled = {k for k, v in raw.items() if not typeable(v, multi_line=k in _MULTI_LINE)}
    errors += [RowError(line, column, _UNTYPEABLE) for column in COLUMNS if column in spoiled]
    try:
        expert = ExpertInput.model_validate(data)
    except ValidationError as exc:
        found = [_from_pydantic(line, error, cells) for error in exc.errors()]
        errors += [e for e in found if e.column not in spoiled]  # one problem a cell
        return None, errors
    return (None if errors else expert), errors


def _boolean(line: int, cells: dict[str, str], column: str, errors: list[RowError]) -> bool | None:
    text = cells.get(column, "").lower()
    if text and text not in _BOOLS:
        errors.append(RowError(line, column, f"{text!r} is not yes or no (or y, n, true, false)"))
    return _BOOLS.get(text)


def _consent(line: int, cells: dict[str, str], errors: list[RowError]) -> dict[str, Any]:
    consent: dict[str, dict[str, bool]] = {}
    for channel in Channel:
        if _boolean(line, cells, f"consent_{channel.value}", errors):
            consent[channel.value] = {"allowed": True}
    for text in _split(cells.get("details_safe", "")):
        try:
            channel = Channel.parse(text)
        except ValueError as exc:
            errors.append(RowError(line, "details_safe", str(exc)))
            continue
        if channel.value not in consent:
            message = f"details_safe names {channel.value} but consent_{channel.value} is not yes"
            errors.append(RowError(line, "details_safe", message))
        else:
            consent[channel.value]["details_safe"] = True
    return consent


def _windows(line: int, cells: dict[str, str], errors: list[RowError]) -> list[dict[str, Any]]:
    """safe_days "mon-fri;sat" pairs with safe_hours "09:00-20:00;10:00-12:00"; "sms: sat"
    limits one pair to a channel, as set elsewhere in Linkline, so exports round-trip."""
    days, hours = _split(cells.get("safe_days", "")), _split(cells.get("safe_hours", ""))
    if len(days) != len(hours):
        column = "safe_hours" if len(days) > len(hours) else "safe_days"
        message = "safe_days and safe_hours go together: give hours for each set of days"
        errors.append(RowError(line, column, message))
        return []
    windows = []
    for day_text, hour_text in zip(days, hours, strict=True):
        name, _, when = day_text.rpartition(":")
        try:
            channel = Channel.parse(name) if name else None
        except ValueError as exc:
            errors.append(RowError(line, "safe_days", str(exc)))
            continue
        windows.append({"days": when.strip(), "hours": hour_text, "channel": channel})
    return windows


def _from_pydantic(line: int, error: ErrorDetails, cells: dict[str, str]) -> RowError:
    loc, message = error["loc"], str(error["msg"]).removeprefix("Value error, ")
    field = str(loc[0]) if loc else ""
    column = field if field in COLUMNS else ROW
    if field == "windows":
        column = "safe_hours" if "hours" in message else "safe_days"
    elif field == "consent" and len(loc) > 1:
        column = f"consent_{loc[1]}"
    if error["type"] == "missing":
        message = "this column is required: the cell is empty"
    elif error["type"].startswith("date"):
        message = "this is not a real date: write it like 2026-01-05"
    if column in _PRIVATE and cells.get(column):
        message = message.replace(repr(cells[column]), "this")
    return RowError(line, column, message)


def _repeats_in_file(rows: list[ParsedRow]) -> list[RowError]:
    first_seen: dict[tuple[str, str], int] = {}
    errors = []
    for row in rows:
        for column, value in _unique_values(row.expert):
            first = first_seen.setdefault((column, value), row.line)
            if first == row.line:
                continue
            if column == "ref":
                message = f"the ref {value} is also on row {first}: each ref must be different"
            else:
                message = (
                    f"the same {_OWN[column]} is on row {first}: "
                    "each person needs their own contact details"
                )
            errors.append(RowError(row.line, column, message))
    return errors


def _unique_values(expert: ExpertInput) -> Iterator[tuple[str, str]]:
    for column in ("ref", *_OWN):
        value = getattr(expert, column)
        if value:
            yield column, value


async def check_against_database(
    session: AsyncSession, cipher: Cipher, rows: list[ParsedRow]
) -> list[RowError]:
    """Staff must exist, refs and contact details must be new: read-only, safe to run anytime."""
    experts = [row.expert for row in rows]
    emails = {e.strip().lower() for x in experts for e in (x.link_worker, x.consent_confirmed_by)
              if e}  # fmt: skip
    staff = await _lookup(session, Staff.email, Staff.id, emails)
    refs = await _lookup(session, Expert.ref, Expert.id, {x.ref for x in experts if x.ref})
    hashes = {cipher.blind_index(v) for x in experts for c, v in _unique_values(x) if c != "ref"}
    taken = await _lookup(session, ContactPoint.lookup_hash, ContactPoint.expert_id, hashes)
    errors = []
    for row in rows:
        for column in ("link_worker", "consent_confirmed_by"):
            email = getattr(row.expert, column)
            if email and email.strip().lower() not in staff:
                message = "no staff member has this email: add them with `linkline staff create`"
                errors.append(RowError(row.line, column, message))
        for column, value in _unique_values(row.expert):
            owner = refs.get(value) if column == "ref" else taken.get(cipher.blind_index(value))
            if owner is not None:
                what = "ref" if column == "ref" else _OWN[column]
                message = f"this {what} already belongs to expert {owner} in Linkline"
                errors.append(RowError(row.line, column, message))
    return errors


async def _lookup(
    session: AsyncSession, key: Column, value: Column, wanted: set[str]
) -> dict[str, int]:
    """key -> value for the wanted keys that exist, a few hundred at a time."""
    found: dict[str, int] = {}
    keys = sorted(wanted)
    for start in range(0, len(keys), 500):  # stay under every database's parameter limit
        chunk = keys[start : start + 500]
        result = await session.execute(select(key, value).where(key.in_(chunk)))
        found.update((k, v) for k, v in result)
    return found


async def import_experts(
    session: AsyncSession,
    cipher: Cipher,
    rows: list[ParsedRow],
    *,
    actor: str,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> list[RowError]:
    """Add every row, or none: on errors nothing is written; the caller commits on success."""
    if errors := await check_against_database(session, cipher, rows):
        return errors
    for done, row in enumerate(rows, 1):
        await create_expert(session, cipher, row.expert, actor=actor, now=now)
        if progress is not None:
            progress(done)
    audit.record(session, actor=actor, action="experts.imported", entity="expert",
                 entity_id=None, at=now, count=len(rows))  # fmt: skip
    return []


async def export_experts(session: AsyncSession, *, actor: str, now: datetime) -> ExpertExport:
    """Every expert as CSV that imports again; the audit log records the count, never content."""
    experts = await load_experts(session)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    withheld = 0
    for expert in experts:
        row, held_back = _export_row(expert, now)
        withheld += held_back
        writer.writerow([guard_formula(row.get(column, "")) for column in COLUMNS])
    audit.record(session, actor=actor, action="experts.exported", entity="expert",
                 entity_id=None, at=now, count=len(experts))  # fmt: skip
    return ExpertExport(out.getvalue(), len(experts), withheld)


def _export_row(expert: Expert, now: datetime) -> tuple[dict[str, str], bool]:
    """One expert's cells, and whether consent was left out so a re-import sends nothing."""
    points = {p.channel: p for p in expert.contact_points}
    allowed = [c for c in expert.consents if c.allowed]
    given = [c for c in allowed if _still_wanted(expert, points.get(c.channel), now)]
    latest = max(expert.consents, key=lambda c: c.confirmed_on, default=None)
    values = {p.channel: p.value for p in expert.contact_points}
    phone = values.get(Channel.SMS) or values.get(Channel.PHONE)
    row = {
        "ref": expert.ref or "",
        "preferred_name": expert.preferred_name,
        "link_worker": expert.link_worker.email,
        "time_zone": expert.time_zone,
        "language": expert.language,
        "preferred_channel": expert.preferred_channel.value,
        "fallback_channels": ";".join(expert.fallback_channels),
        "phone": phone_for_people(phone) if phone else "",
        "telegram_chat_id": values.get(Channel.TELEGRAM, ""),
        "email": values.get(Channel.EMAIL, ""),
        "postal_address": values.get(Channel.LETTER, "").replace("\n", "; "),
        **{f"consent_{channel.value}": "no" for channel in Channel},
        **{f"consent_{c.channel.value}": "yes" for c in given},
        "details_safe": ";".join(c.channel.value for c in given if c.details_safe),
        "consent_confirmed_on": latest.confirmed_on.isoformat() if latest else "",
        "consent_confirmed_by": latest.confirmed_by.email if latest else "",
        "safe_days": ";".join(
            f"{w.channel.value}: {w.days}" if w.channel else w.days for w in expert.windows
        ),
        "safe_hours": ";".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in expert.windows),
        "access_needs": ";".join(expert.access_needs),
        "discreet": "yes" if expert.discreet else "no",
        "pastoral_level": expert.pastoral_level.value,
        "payment_preference": choice_words(expert.payment_preference, ""),
    }
    return row, len(given) < len(allowed)


def _still_wanted(expert: Expert, point: ContactPoint | None, now: datetime) -> bool:
    """Paused, withdrawn or opted out means no consent in the file: fail closed on re-import."""
    # A pause with a return date is a date, not a status, and the file has no column for it.
    return (
        expert.status is ExpertStatus.ACTIVE
        and not is_paused(expert, now)
        and point is not None
        and point.opted_out_at is None
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]
