"""Privacy: how long things are kept. Administrators choose the periods; the daily purge
(`scheduling.maintenance`) reads what is saved here.

The other privacy work sits beside this module: `audit_search` (the audit log),
`subject_access` (a copy of everything held about one expert) and `erasure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from scheduling.maintenance import (
    DEFAULT_LEAVER_RETENTION_DAYS,
    DEFAULT_RECORD_RETENTION_DAYS,
    LEAVER_RETENTION_KEY,
    MESSAGE_RETENTION_KEY,
    RECORD_RETENTION_KEY,
    setting_days,
)
from store import audit
from store.errors import Refused
from store.models import OrgSetting

MIN_MESSAGE_DAYS, MAX_MESSAGE_DAYS = 7, 3650
MAX_RECORD_DAYS = 7300  # twenty years
# After someone leaves: at least a month (a last payment, a goodbye, a change of heart).
MIN_LEAVER_DAYS = 30


class PrivacyError(Refused):
    """Refused input; ``errors`` maps each form field to what to do about it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


@dataclass(frozen=True)
class RetentionChoice:
    """One retention period, and who last chose it (None: the starting value is in use)."""

    days: int
    updated_at: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True)
class RetentionSettings:
    messages: RetentionChoice
    records: RetentionChoice
    leavers: RetentionChoice  # the record of someone who left, after they left
    silence_days: int  # replies must be kept at least this long: see check_retention


async def load_retention(session: AsyncSession, settings: Settings) -> RetentionSettings:
    """What the purge will use: the administrators' choice, else the starting values."""
    rows = {
        row.key: row
        for row in await session.scalars(
            select(OrgSetting).where(
                OrgSetting.key.in_(
                    (MESSAGE_RETENTION_KEY, RECORD_RETENTION_KEY, LEAVER_RETENTION_KEY)
                )
            )
        )
    }

    def choice(key: str, default: int) -> RetentionChoice:
        row = rows.get(key)
        days = setting_days(row.value) if row is not None else None
        if row is None or days is None:
            return RetentionChoice(default)
        return RetentionChoice(days, row.updated_at, row.updated_by)

    return RetentionSettings(
        messages=choice(MESSAGE_RETENTION_KEY, settings.retention_days),
        records=choice(RECORD_RETENTION_KEY, DEFAULT_RECORD_RETENTION_DAYS),
        leavers=choice(LEAVER_RETENTION_KEY, DEFAULT_LEAVER_RETENTION_DAYS),
        silence_days=settings.silence_days,
    )


def _whole_days(text: str) -> int | None:
    text = text.strip().replace(",", "")
    return int(text) if text.isdigit() and len(text) <= 6 else None


def check_retention(message_text: str, record_text: str, *, silence_days: int) -> tuple[int, int]:
    """Both periods as whole days, or PrivacyError with a message for each field.

    Replies are how Linkline knows someone has been in touch: deleting them sooner than
    the silence check looks back would make people look silent and open needless tasks.
    """
    errors: dict[str, str] = {}
    messages, records = _whole_days(message_text), _whole_days(record_text)
    lowest = max(MIN_MESSAGE_DAYS, silence_days)
    if not message_text.strip():
        errors["message_days"] = "Enter how many days message texts and replies are kept"
    elif messages is None:
        errors["message_days"] = "Enter a whole number of days, such as 90"
    elif messages < lowest:
        errors["message_days"] = f"Keep message texts and replies for at least {lowest} days" + (
            f". Linkline looks back {silence_days} days for a reply before asking a "
            "link worker to check in, so replies must be kept at least that long"
            if silence_days > MIN_MESSAGE_DAYS
            else ""
        )
    elif messages > MAX_MESSAGE_DAYS:
        errors["message_days"] = (
            f"Keep message texts and replies for at most {MAX_MESSAGE_DAYS} days"
        )
    if not record_text.strip():
        errors["record_days"] = "Enter how many days tasks and the audit log are kept"
    elif records is None:
        errors["record_days"] = "Enter a whole number of days, such as 2190"
    elif records > MAX_RECORD_DAYS:
        errors["record_days"] = f"Keep tasks and the audit log for at most {MAX_RECORD_DAYS} days"
    elif messages is not None and records <= messages:
        errors["record_days"] = (
            f"Keep tasks and the audit log for longer than message texts ({messages} days), "
            "so the record of what was done outlasts the words"
        )
    if errors:
        raise PrivacyError(errors)
    assert messages is not None and records is not None
    return messages, records


def check_leaver_days(text: str, *, records: int | None) -> int:
    """The days a leaver's record is kept after they left, or PrivacyError for the field.

    At most as long as tasks and the audit log: nobody's record outlives the record of work.
    """
    days = _whole_days(text)
    if not text.strip():
        error = "Enter how many days the record of someone who left is kept"
    elif days is None:
        error = f"Enter a whole number of days, such as {DEFAULT_LEAVER_RETENTION_DAYS}"
    elif days < MIN_LEAVER_DAYS:
        error = f"Keep the record of someone who left for at least {MIN_LEAVER_DAYS} days"
    elif records is not None and days > records:
        error = (
            f"Keep the record of someone who left for at most {records} days, "
            "as long as tasks and the audit log"
        )
    else:
        return days
    raise PrivacyError({"leaver_days": error})


async def save_retention(
    session: AsyncSession,
    settings: Settings,
    message_text: str,
    record_text: str,
    leaver_text: str | None = None,
    *,
    now: datetime,
    actor: str,
) -> list[str]:
    """Store the periods the next purge uses (the leavers' one only when given); returns
    the keys that changed. Every field's problem is reported at once."""
    current = await load_retention(session, settings)
    errors: dict[str, str] = {}
    messages, records = current.messages.days, current.records.days
    try:
        messages, records = check_retention(
            message_text, record_text, silence_days=settings.silence_days
        )
    except PrivacyError as refused:
        errors.update(refused.errors or {})
    leavers = current.leavers.days
    if leaver_text is not None:
        try:
            leavers = check_leaver_days(leaver_text, records=_whole_days(record_text))
        except PrivacyError as refused:
            errors.update(refused.errors or {})
    if errors:
        raise PrivacyError(errors)
    changed: list[str] = []
    for key, days, before in (
        (MESSAGE_RETENTION_KEY, messages, current.messages),
        (RECORD_RETENTION_KEY, records, current.records),
        (LEAVER_RETENTION_KEY, leavers, current.leavers),
    ):
        if key == LEAVER_RETENTION_KEY and leaver_text is None:
            continue
        if days == before.days and before.updated_at is not None:
            continue
        row = await session.get(OrgSetting, key)
        if row is None:
            session.add(OrgSetting(key=key, value={"days": days}, updated_at=now, updated_by=actor))
        else:
            row.value, row.updated_at, row.updated_by = {"days": days}, now, actor
        changed.append(key)
    if changed:
        audit.record(
            session,
            actor=actor,
            action="privacy.retention_set",
            entity="org_setting",
            entity_id=None,
            at=now,
            message_days=messages,
            record_days=records,
            leaver_days=leavers,
        )
    return changed
