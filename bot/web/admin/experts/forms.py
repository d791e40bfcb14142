"""Reading the experts pages' forms: text as typed in, checked values or errors by field.

Nothing here decides what Linkline allows; the services do. This turns a posted form into
the values a service takes, and pydantic's and the window parser's complaints into one
sentence per form field, keyed by the field's id so each shows beside its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from pydantic import ValidationError

from bot.services.experts.details import ADDRESS_FIELD, ExpertDetails, ExpertInput, WindowInput
from scheduling.rules.windows import WindowError
from scheduling.text.words import CHANNEL_ADDRESSES, in_sentence
from store.enums import Channel, PastoralLevel
from store.errors import Refused


class FormError(Refused):
    """Problems with a form, by the id of the field each belongs to."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


# ExpertInput's fields, in words for a form: what to do, never the value they typed.
_FIELD_WORDS = {
    "ref": "Enter a reference of 40 characters or fewer",
    "link_worker": "Select their link worker",
    "time_zone": "Enter a time zone like Europe/London",
    "language": "Enter a short language code, like en for English or gd for Gaelic",
    "preferred_channel": "Select how they would most like to hear from us",
    "fallback_channels": "Select other ways to contact them from the list",
    "phone": "Enter a phone number in the correct format, like 07123 456789",
    "email": "Enter an email address in the correct format, like name@example.org",
    "postal_address": "Enter the address on at least two lines, ending with the postcode",
    "access_needs": "Select access needs from the list",
    "pastoral_level": "Select how often to keep in touch",
    "discreet": "Select yes or no",
    "consent_confirmed_on": "Enter the day consent was confirmed with them",
    "consent_confirmed_by": "Say who confirmed it with them",
}
_ADDRESS_WORDS = {
    "phone": "phone number",
    "email": "email address",
    "postal_address": "postal address",
}


def plain_errors(exc: ValidationError) -> dict[str, str]:
    """ExpertInput's (or ExpertDetails') problems as field name -> a sentence to act on.

    Keys are the model's field names ("consent_sms" for one channel's consent); a form
    uses them as its field ids, so each message shows next to its field.
    """
    found: dict[str, str] = {}
    for error in exc.errors():
        loc, kind = error["loc"], error["type"]
        message = str(error["msg"]).removeprefix("Value error, ")
        field = str(loc[0]) if loc else ""
        if not field:
            field, message = _whole_form_problem(message)
        elif field == "preferred_name":
            message = (
                "Keep the name to 80 characters or fewer"
                if kind == "string_too_long"
                else "Enter the name they would like us to use"
            )
        elif field == "consent" and len(loc) > 1:
            field, message = f"consent_{loc[1]}", "Choose from the list only"
        elif field == "windows":
            field = "window_days" if "day" in message else "window_from"
        else:
            message = _FIELD_WORDS.get(field, message)
        found.setdefault(field, message)
    return found


def _whole_form_problem(message: str) -> tuple[str, str]:
    """ExpertInput's checks across fields, put on the field that needs the change."""
    if " is chosen but there is no " in message:
        field = message.partition(" is chosen but there is no ")[2]
        if field == "telegram_chat_id":
            return "preferred_channel", (
                "Telegram can be chosen once their chat is linked: choose another way for now"
            )
        what = _ADDRESS_WORDS.get(field, field)
        return field, f"Add their {what}, or choose another way to contact them"
    if "listed twice" in message:
        return "fallback_channels", "Choose each way to contact them only once"
    if "consent_confirmed_on and consent_confirmed_by" in message:
        return "consent_confirmed_by", _FIELD_WORDS["consent_confirmed_by"]
    if "consent_confirmed_on" in message:
        return "consent_confirmed_on", "The day consent was confirmed cannot be in the future"
    return "form", message


DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# "9", "09:00", "17.30", "9am", "9:30 pm", "9.30 p.m.": the ways people write a time.
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:([ap])\.?\s*m\.?)?")
_NAMED = {"midnight": 0, "noon": 12, "midday": 12, "12 noon": 12, "12 midnight": 0}
ALL_DAY = "all-day"


def form_window(
    days: list[str], start: str, end: str, channel: Channel | None = None, *, all_day: bool = False
) -> WindowInput:
    """A safe window from a form: ticked days and two times as people write them ("9am",
    "21:30", "noon", "midnight"), or the whole of each day.

    The end must come after the start. A span past midnight is entered as two windows
    (until midnight, then from midnight), so a slip of the keyboard never turns "9 to 5"
    into "5pm to 9am". Errors are keyed window_days, window_from and window_until.
    """
    errors: dict[str, str] = {}
    if not days:
        errors["window_days"] = "Select the days when contact is safe"
    elif any(day not in DAY_KEYS for day in days):
        errors["window_days"] = "Select days from the list"
    times = [time(0), time(0)]
    if not all_day:
        for i, (field, text, what, like) in enumerate(
            (
                ("window_from", start, "from", "9am or 09:00"),
                ("window_until", end, "until", "5pm or 17:30"),
            )
        ):
            moment = form_clock(text, end=field == "window_until")
            if moment is None:
                errors[field] = (
                    f"Enter the time contact is safe {what}, like {like}"
                    if text
                    else f"Enter the time contact is safe {what}"
                )
            else:
                times[i] = moment
    if errors:
        raise FormError(errors)
    opens, closes = times
    if closes <= opens and closes != time(0):
        raise FormError(
            {
                "window_until": "The time contact is safe until must be after the time it is "
                "safe from. For times past midnight, add two: one until midnight and one "
                "from midnight"
            }
        )
    hours = f"{opens:%H:%M}-{'24:00' if closes == time(0) else f'{closes:%H:%M}'}"
    window = WindowInput(
        days=",".join(d for d in DAY_KEYS if d in days), hours=hours, channel=channel
    )
    try:
        window.parsed()
    except WindowError as exc:
        raise FormError({"window_from": str(exc)}) from None
    return window


def form_clock(text: str, *, end: bool) -> time | None:
    """A time as typed; "24:00" and "midnight" as an end mean the end of the day (returned
    as 00:00, the way windows store it). None when it cannot be read."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _NAMED:
        return time(_NAMED[cleaned])
    found = _CLOCK.fullmatch(cleaned)
    if not found:
        return None
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if minute > 59:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    elif end and hour == 24 and minute == 0:
        return time(0)
    if hour > 23:
        return None
    return time(hour, minute)


@dataclass(frozen=True)
class NewExpertForm:
    """The add-an-expert form as posted: text as typed, ticked boxes as lists."""

    preferred_name: str
    ref: str
    link_worker: str  # their email
    time_zone: str  # as typed, or the organisation's zone when left empty
    discreet: bool
    access_needs: list[str]
    phone: str
    email: str
    postal_address: str
    preferred_channel: str
    fallback_channels: list[str]
    allow: list[str]  # channels they agree to
    details: list[str]  # channels where full details may be sent
    window_days: list[str]
    window_from: str
    window_until: str
    pastoral_level: str
    confirmed_on: date  # consent is confirmed by the person filling it in, today
    confirmed_by: str


def expert_from_form(
    form: NewExpertForm, channels: tuple[Channel, ...] = tuple(Channel)
) -> ExpertInput:
    """Check the whole form; every problem at once, by field id (raises FormError).

    On top of ExpertInput's checks: consent only for a way they have details for, full
    details only where they agree, and every chosen way agreed to, since the person is
    sitting with them now. ``channels`` are the ways the form offers.
    """
    errors: dict[str, str] = {}
    given = {"phone": form.phone, "email": form.email, "postal_address": form.postal_address}
    consent: dict[str, dict[str, bool]] = {}
    for text in dict.fromkeys([*form.allow, *form.details]):
        channel = parsed_channel(text)
        if channel not in channels:
            errors.setdefault("consent_sms" if channel is None else f"consent_{channel.value}",
                              "Choose from the list only")  # fmt: skip
            continue
        assert channel is not None
        field = f"consent_{channel.value}"
        if text not in form.allow:
            errors[field] = "Full details can only go a way they agree to: tick that they agree too"
        elif not given.get(ADDRESS_FIELD[channel]):
            errors[field] = f"Add their {CHANNEL_ADDRESSES[channel]} above, or untick this"
        else:
            consent[channel.value] = {"allowed": True, "details_safe": text in form.details}
    fallbacks = [c for c in form.fallback_channels if c != form.preferred_channel]
    for field, chosen in (("preferred_channel", [form.preferred_channel]),
                          ("fallback_channels", fallbacks)):  # fmt: skip
        for text in chosen:
            channel = parsed_channel(text)
            if channel is not None and text not in form.allow and field not in errors:
                way = in_sentence(channel)
                errors[field] = f"Tick that they agree to {way} below, or choose another way"
    data: dict[str, Any] = {
        "ref": form.ref,
        "preferred_name": form.preferred_name,
        "link_worker": form.link_worker,
        "time_zone": form.time_zone,
        "preferred_channel": form.preferred_channel,
        "fallback_channels": fallbacks,
        **given,
        "consent": consent,
        "consent_confirmed_on": form.confirmed_on,
        "consent_confirmed_by": form.confirmed_by,
        "access_needs": form.access_needs,
        "discreet": form.discreet,
        "pastoral_level": form.pastoral_level or PastoralLevel.OFF.value,
    }
    if form.window_days or form.window_from or form.window_until:
        try:
            window = form_window(form.window_days, form.window_from, form.window_until)
            data["windows"] = [window.model_dump()]
        except FormError as exc:
            errors.update(exc.errors)
    try:
        checked = ExpertInput.model_validate(data, context={"today": form.confirmed_on})
    except ValidationError as exc:
        raise FormError({**plain_errors(exc), **errors}) from None
    if errors:
        raise FormError(errors)
    return checked


def parsed_channel(text: str) -> Channel | None:
    """A channel as a form's own options send it ("sms"); None for anything else."""
    try:
        return Channel(text)
    except ValueError:
        return None


def details_from_form(values: dict[str, Any]) -> ExpertDetails:
    """The "about them" form, checked (raises FormError by field)."""
    try:
        return ExpertDetails.model_validate(values)
    except ValidationError as exc:
        raise FormError(plain_errors(exc)) from None


def consent_from_form(allow: list[str], details: list[str]) -> dict[Channel, bool]:
    """The consent form's two columns of ticks: each channel they agree to, and whether
    full details may go there (raises FormError by field)."""
    errors: dict[str, str] = {}
    for text in {*allow, *details}:
        if parsed_channel(text) is None:
            errors["consent_sms"] = "Choose from the list only"
        elif text not in allow:
            errors[f"consent_{text}"] = (
                "Full details can only go a way they agree to: tick that they agree too"
            )
    if errors:
        raise FormError(errors)
    return {Channel(c): c in details for c in allow}


def channels_from_form(preferred: str, fallbacks: list[str]) -> tuple[Channel, list[Channel]]:
    """The way they like best, then the others in order (raises FormError by field)."""
    errors: dict[str, str] = {}
    first = parsed_channel(preferred)
    if first is None:
        errors["preferred_channel"] = "Select how they would most like to hear from us"
    others = [parsed_channel(t) for t in fallbacks]
    if any(c is None for c in others):
        errors["fallback_channels"] = "Select other ways from the list"
    if errors or first is None:
        raise FormError(errors)
    return first, [c for c in others if c is not None]


def window_channel(text: str) -> Channel | None:
    """The channel a safe time is for; None (every way) when left empty."""
    if not text:
        return None
    channel = parsed_channel(text)
    if channel is None:
        raise FormError({"window_channel": "Choose from the list"})
    return channel


def form_date(day: str, month: str, year: str) -> date | None:
    """A GOV.UK date input's three boxes; None when they do not make a real date."""
    parts = [day, month, year]
    if not all(p.isdigit() for p in parts):
        return None
    d, m, y = (int(p) for p in parts)
    try:
        return date(y if y > 99 else 2000 + y, m, d)
    except (ValueError, OverflowError):  # 20 digits overflow rather than fail
        return None


def pause_end(kind: str, day: str, month: str, year: str) -> date | None:
    """How long to pause: until a day (that date), or until they get in touch (None)."""
    if kind not in ("date", "contact"):
        raise FormError({"pause_kind": "Choose how long to pause for"})
    if kind == "contact":
        return None
    until = form_date(day, month, year)
    if until is None:
        raise FormError({"pause_until": "Enter the day contact may start again, like 1 3 2026"})
    return until


def yes_or_no(text: str, field: str) -> bool:
    """A yes/no radio (raises FormError on ``field`` for anything else)."""
    if text not in ("yes", "no"):
        raise FormError({field: "Choose yes or no"})
    return text == "yes"
