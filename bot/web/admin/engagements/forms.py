"""Reading the engagement forms: what each field is called, every problem found at once,
and the values a form starts with.

Times are typed and shown in the organisation's time zone (`Settings.default_time_zone`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.engagements import plans as plan_service
from bot.services.engagements.attendance import attendance_field
from bot.services.engagements.rules import DETAIL_FIELDS, check_engagement, local_moment
from bot.web.admin.pages import Errors, Page
from bot.web.admin.pages import sentence as capitalised
from scheduling.rules.given import given
from scheduling.rules.plan import PlanError
from store.errors import Refused
from store.models import Engagement

REASON_MAX = 500
SUPPORT_NEEDS_MAX = 1000
DATE_FIELD = "starts_on-day"  # the first box of the date, where its error summary link goes

# The details an expert needs to know, in the order the form asks for them.
DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "purpose": (
        "Purpose",
        "What it is for, in a sentence or two. This is the first thing people read.",
    ),
    "objectives": ("Objectives", "What you hope to do together on the day."),
    "expected_outcomes": (
        "Expected outcomes",
        "What will come out of it, and what happens with what people say.",
    ),
    "venue_name": ("Venue name", "The name of the place, as people will see it on the door."),
    "venue_address": (
        "Venue address",
        "The full address with the postcode. Leave it empty if it only happens online.",
    ),
    "venue_accessibility": (
        "Accessibility",
        "Step-free access, accessible toilets, a quiet room, a hearing loop, parking.",
    ),
    "meeting_point": (
        "Meeting point",
        "Who will meet people, and where. For example: Sam will meet you at the front door.",
    ),
    "practitioners": (
        "Practitioners attending",
        "Who else will be there. Roles are enough, for example: two nurses from the ward.",
    ),
    "transport_and_expenses": (
        "Transport and expenses",
        "What is paid for: bus or train fares, taxis, childcare, a support worker, food.",
    ),
    "how_to_claim": (
        "How to claim",
        "How people get their money back, and how soon. Nobody should be out of pocket.",
    ),
    "paperwork": (
        "Paperwork",
        "Anything to read or sign beforehand, and when it will arrive. If there is nothing, "
        "say so, for example: Nothing to read or sign.",
    ),
}
ONLINE_LINK = ("Online link (optional)", "The full web address to join, starting with https://")
MISSING_LABELS = {
    **{name: label for name, (label, _) in DETAIL_LABELS.items()},
    "venue_address or online_link": "Venue address or online link",
}
_FORM_ORDER = ("title", "kind", DATE_FIELD, "start_time", "end_time", "online_link", *DETAIL_LABELS)


def sentence(text: str) -> str:
    """A service's refusal as a GOV.UK error message: capital first, no full stop."""
    return capitalised(text.strip().rstrip("."))


def _service_field(name: str) -> str:
    """Where on the form a service's complaint about ``name`` belongs."""
    return {"starts_at": DATE_FIELD, "ends_at": "end_time"}.get(name, name)


def refused_fields(exc: Refused, default: str) -> Errors:
    """A service's refusal as the form shows it: each sentence beside its field.

    Like `Page.refusal`, with the services' field names mapped to this form's ids.
    """
    return {_service_field(name): sentence(text) for name, text in exc.by_field(default).items()}


def office_zone(page: Page) -> str:
    """The organisation's time zone: the one dates and times are typed in."""
    return page.web.time_zone


def form_labels() -> dict[str, Any]:
    return {"detail_labels": DETAIL_LABELS, "online_link_label": ONLINE_LINK}


def read_when(page: Page) -> tuple[datetime | None, datetime | None, Errors]:
    """The date and the start and end times, typed as local times, in UTC."""
    errors: Errors = {}
    day: date | None = None
    parts = [page.field(f"starts_on-{p}") for p in ("day", "month", "year")]
    if not all(parts):
        errors[DATE_FIELD] = "Enter the date, for example 17 3 2026"
    else:
        try:
            day = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except (ValueError, OverflowError):  # 20 digits overflow rather than fail
            errors[DATE_FIELD] = "Enter a real date, for example 17 3 2026"
    times = {}
    for name, what in (("start_time", "start"), ("end_time", "end")):
        text = page.field(name)
        if not text:
            errors[name] = f"Enter the {what} time, for example 14:00"
            continue
        try:
            times[name] = plan_service.parse_clock(text)
        except PlanError:
            errors[name] = f"Enter the {what} time using the 24-hour clock, for example 14:00"
    moments: dict[str, datetime] = {}
    if day is not None:
        for name, at in times.items():
            try:
                moments[name] = local_moment(day, at, office_zone(page))
            except Refused as exc:
                errors[name] = sentence(exc.plain)
    return moments.get("start_time"), moments.get("end_time"), errors


def read_engagement_form(page: Page, kinds: list[str]) -> tuple[dict[str, Any], Errors]:
    """Everything the create and edit forms send, with every problem found at once."""
    title = page.field("title")
    kind = page.field("kind") or "meeting"
    details = {name: page.field(name) or None for name in DETAIL_FIELDS}
    starts_at, ends_at, errors = read_when(page)
    if kind not in kinds:
        errors["kind"] = "Choose a kind from the list"
    # When the times could not be read, still check everything else, so all shows at once.
    readable = starts_at is not None and ends_at is not None
    checked = check_engagement(
        title=title,
        starts_at=starts_at or page.now,
        ends_at=ends_at or page.now,
        details=details,
        now=page.now,
        time_zone=office_zone(page),
    )
    for name, message in checked.items():
        if readable or name not in ("starts_at", "ends_at"):
            errors.setdefault(_service_field(name), sentence(message))
    form = {
        "title": title,
        "kind": kind,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "details": details,
    }
    return form, _ordered(errors)


def _ordered(errors: Errors) -> Errors:
    """Errors in the order of the fields on the page, as the summary should list them."""
    rank = {name: i for i, name in enumerate(_FORM_ORDER)}
    return dict(sorted(errors.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def read_plan_changes(page: Page, current: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    """The plan settings a form changed (None: back to the layer below), checked as typed.

    Only what differs from ``current`` counts as a change, so the audit trail names what
    someone actually changed.
    """
    changes: dict[str, Any] = {}
    errors: Errors = {}
    for name in plan_service.SETTING_NAMES:
        text = page.field(name)
        value: Any = None
        if text and name == "send_at":
            try:
                value = plan_service.parse_clock(text).strftime("%H:%M")
            except PlanError:
                errors[name] = "Enter a time of day using the 24-hour clock, for example 10:00"
                continue
        elif text:
            if not text.isdigit() or int(text) > 365:
                errors[name] = "Enter a whole number of days, for example 7"
                continue
            value = int(text)
        if value != current.get(name):
            changes[name] = value
    return changes, errors


def read_attendance(page: Page, engagement: Engagement) -> tuple[dict[int, bool | None], Errors]:
    """The attendance sheet: each row's mark by invitation id, and the rows whose answer
    could not be read (left off the sheet)."""
    came: dict[int, bool | None] = {}
    errors: Errors = {}
    for invitation in engagement.invitations:
        key = attendance_field(invitation.id)
        choice = page.field(key)
        if choice not in ("", "came", "missed"):
            errors[key] = "Choose came or did not come"
            continue
        came[invitation.id] = {"came": True, "missed": False}.get(choice)
    return came, errors


# --- what a form starts with ------------------------------------------------------------------


def when_values(engagement: Engagement, time_zone: str) -> dict[str, str]:
    zone = ZoneInfo(time_zone)
    starts = engagement.starts_at.astimezone(zone)
    ends = engagement.ends_at.astimezone(zone)
    return {
        "starts_on-day": str(starts.day),
        "starts_on-month": str(starts.month),
        "starts_on-year": str(starts.year),
        "start_time": f"{starts:%H:%M}",
        "end_time": f"{ends:%H:%M}",
    }


def engagement_values(engagement: Engagement, time_zone: str) -> dict[str, str]:
    # A detail never given shows as an empty box, never as "None" (old records may hold it).
    values = {name: given(getattr(engagement, name)) or "" for name in DETAIL_FIELDS}
    values.update(
        title=engagement.title, kind=engagement.kind, **when_values(engagement, time_zone)
    )
    return values


def attendance_values(engagement: Engagement) -> dict[str, Any]:
    return {
        attendance_field(i.id): "" if i.attended is None else ("came" if i.attended else "missed")
        for i in engagement.invitations
    }
