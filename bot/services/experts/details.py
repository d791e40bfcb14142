"""One validated description of an expert, shared by CSV import, the demo and forms.

Every check says which field is wrong and how to put it right, so a person fixing a
spreadsheet row knows exactly what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.services.contact_details import normalise_address, normalise_email, normalise_phone
from scheduling.rules.windows import SafeWindow, WindowError, load_zone
from store.enums import AccessNeed, Channel, PastoralLevel
from store.errors import Refused


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def check_zone(value: str) -> str:
    """The same check as at send time, so a saved zone cannot fail there."""
    try:
        load_zone(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from None
    return value


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]
    return value


Optional = Annotated[str | None, BeforeValidator(_blank_to_none)]
# The organisation's own reference: the column holds 40 characters.
Ref = Annotated[Annotated[str, Field(max_length=40)] | None, BeforeValidator(_blank_to_none)]


class ConsentInput(BaseModel):
    allowed: bool = False
    details_safe: bool = False


class WindowInput(BaseModel):
    days: str
    hours: str
    channel: Channel | None = None

    def parsed(self) -> SafeWindow:
        return SafeWindow.parse(self.days, self.hours)


class ExpertInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    ref: Ref = None
    preferred_name: str = Field(min_length=1, max_length=80)
    link_worker: str = Field(min_length=1, description="the link worker's email")
    time_zone: str = "Europe/London"
    language: str = Field("en", min_length=2, max_length=16)
    preferred_channel: Channel
    fallback_channels: Annotated[list[Channel], BeforeValidator(_split_list)] = []
    phone: Optional = None
    telegram_chat_id: Optional = None
    email: Optional = None
    postal_address: Optional = None
    consent: dict[Channel, ConsentInput] = {}
    consent_confirmed_on: Annotated[date | None, BeforeValidator(_blank_to_none)] = None
    consent_confirmed_by: Optional = None
    windows: list[WindowInput] = []
    access_needs: Annotated[list[AccessNeed], BeforeValidator(_split_list)] = []
    discreet: bool = True
    pastoral_level: PastoralLevel = PastoralLevel.OFF
    payment_preference: Optional = None

    @field_validator("preferred_channel", mode="before")
    @classmethod
    def _channel(cls, value: object) -> object:
        return Channel.parse(value) if isinstance(value, str) else value

    @field_validator("fallback_channels", mode="before")
    @classmethod
    def _channels(cls, value: object) -> object:
        value = _split_list(value)  # runs before the annotated splitter, so split here too
        if isinstance(value, list):
            return [Channel.parse(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None

    @field_validator("telegram_chat_id")
    @classmethod
    def _chat(cls, value: str | None) -> str | None:
        if value and not value.lstrip("-").isdigit():
            raise ValueError(f"{value!r} is not a Telegram chat id (it is a number)")
        return value

    @field_validator("postal_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return normalise_address(value) if value else None

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: list[WindowInput]) -> list[WindowInput]:
        for window in value:
            try:
                window.parsed()
            except WindowError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> ExpertInput:
        order = [self.preferred_channel, *self.fallback_channels]
        if len(set(order)) != len(order):
            raise ValueError("a channel is listed twice in preferred_channel and fallbacks")
        for channel in order:
            if self.address_for(channel) is None:
                raise ValueError(
                    f"{channel.value} is chosen but there is no {_ADDRESS_FIELD[channel]}"
                )
        if any(c.allowed for c in self.consent.values()) and not (
            self.consent_confirmed_on and self.consent_confirmed_by
        ):
            raise ValueError(
                "consent needs consent_confirmed_on and consent_confirmed_by: a channel is only "
                "used once a named person has confirmed with the expert that it is safe"
            )
        today = datetime.now(ZoneInfo("Europe/London")).date()
        if self.consent_confirmed_on and self.consent_confirmed_on > today:
            raise ValueError("consent_confirmed_on is in the future")
        return self

    def address_for(self, channel: Channel) -> str | None:
        return {
            Channel.SMS: self.phone,
            Channel.PHONE: self.phone,
            Channel.TELEGRAM: self.telegram_chat_id,
            Channel.EMAIL: self.email,
            Channel.LETTER: self.postal_address,
        }[channel]


_ADDRESS_FIELD = {
    Channel.SMS: "phone",
    Channel.PHONE: "phone",
    Channel.TELEGRAM: "telegram_chat_id",
    Channel.EMAIL: "email",
    Channel.LETTER: "postal_address",
}


class ExpertDetails(BaseModel):
    """The "about them" part of an expert, changed on its own once they are set up."""

    model_config = ConfigDict(str_strip_whitespace=True)

    ref: Ref = None
    preferred_name: str = Field(min_length=1, max_length=80)
    time_zone: str = "Europe/London"
    language: str = Field("en", min_length=2, max_length=16)
    access_needs: Annotated[list[AccessNeed], BeforeValidator(_split_list)] = []
    discreet: bool = True

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)


class FormError(Refused):
    """Problems with a form, by the id of the field each belongs to."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


# ExpertInput's fields, in words for a form: what to do, never the value they typed.
_FIELD_WORDS = {
    "ref": "Enter a reference of 40 characters or fewer",
    "link_worker": "Choose their link worker",
    "time_zone": "Enter a time zone like Europe/London",
    "language": "Enter a short language code, like en for English or gd for Gaelic",
    "preferred_channel": "Choose how they would most like to hear from us",
    "fallback_channels": "Choose other ways to contact them from the list only",
    "phone": "Enter a phone number in the correct format, like 07123 456789",
    "email": "Enter an email address in the correct format, like name@example.org",
    "postal_address": "Enter the address on at least two lines, ending with the postcode",
    "access_needs": "Choose access needs from the list only",
    "pastoral_level": "Choose how often to keep in touch",
    "discreet": "Choose yes or no",
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
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?")


def form_window(
    days: list[str], start: str, end: str, channel: Channel | None = None
) -> WindowInput:
    """A safe window from a form: ticked days and two 24-hour clock times.

    The end must come after the start. A span past midnight is entered as two windows
    (until 24:00, then from 00:00), so a slip of the keyboard never turns "9 to 5" into
    "5pm to 9am". Errors are keyed window_days, window_from and window_until.
    """
    errors: dict[str, str] = {}
    if not days:
        errors["window_days"] = "Choose at least one day"
    elif any(day not in DAY_KEYS for day in days):
        errors["window_days"] = "Choose days from the list only"
    times = []
    for field, text, what in (("window_from", start, "from"), ("window_until", end, "until")):
        moment = _form_clock(text, end=field == "window_until")
        if moment is None:
            errors[field] = f"Enter the time contact is safe {what}, in 24-hour time like 09:00"
        times.append(moment)
    if errors:
        raise FormError(errors)
    opens, closes = times
    assert opens is not None and closes is not None
    if closes <= opens and closes != time(0):
        raise FormError(
            {
                "window_until": "The end time must be after the start time. For safe times "
                "past midnight, add two: one until 24:00 and one from 00:00"
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


def _form_clock(text: str, *, end: bool) -> time | None:
    """ "9", "09:00" or "17.30"; "24:00" only as an end (midnight). None when unreadable."""
    found = _CLOCK.fullmatch(text.strip())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if end and hour == 24 and minute == 0:
        return time(0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


# How channels read on the staff pages, and what each needs to reach someone.
CHANNEL_WORDS = {
    Channel.SMS: "text message",
    Channel.TELEGRAM: "Telegram",
    Channel.EMAIL: "email",
    Channel.LETTER: "letter",
    Channel.PHONE: "phone call",
}
CHANNEL_ADDRESS = {
    Channel.SMS: "mobile phone number",
    Channel.TELEGRAM: "linked Telegram chat",
    Channel.EMAIL: "email address",
    Channel.LETTER: "postal address",
    Channel.PHONE: "phone number",
}


@dataclass(frozen=True)
class NewExpertForm:
    """The add-an-expert form as posted: text as typed, ticked boxes as lists."""

    preferred_name: str
    ref: str
    link_worker: str  # their email
    time_zone: str
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
        channel = _parsed_channel(text)
        if channel not in channels:
            errors.setdefault("consent_sms" if channel is None else f"consent_{channel.value}",
                              "Choose from the list only")  # fmt: skip
            continue
        assert channel is not None
        field = f"consent_{channel.value}"
        if text not in form.allow:
            errors[field] = "Full details can only go a way they agree to: tick that they agree too"
        elif not given.get(_ADDRESS_FIELD[channel]):
            errors[field] = f"Add their {CHANNEL_ADDRESS[channel]} above, or untick this"
        else:
            consent[channel.value] = {"allowed": True, "details_safe": text in form.details}
    fallbacks = [c for c in form.fallback_channels if c != form.preferred_channel]
    for field, chosen in (("preferred_channel", [form.preferred_channel]),
                          ("fallback_channels", fallbacks)):  # fmt: skip
        for text in chosen:
            channel = _parsed_channel(text)
            if channel is not None and text not in form.allow and field not in errors:
                way = CHANNEL_WORDS[channel]
                errors[field] = f"Tick that they agree to {way} below, or choose another way"
    data: dict[str, Any] = {
        "ref": form.ref,
        "preferred_name": form.preferred_name,
        "link_worker": form.link_worker,
        "time_zone": form.time_zone or "Europe/London",
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
        checked = ExpertInput.model_validate(data)
    except ValidationError as exc:
        raise FormError({**plain_errors(exc), **errors}) from None
    if errors:
        raise FormError(errors)
    return checked


def _parsed_channel(text: str) -> Channel | None:
    """A channel as a form's own options send it ("sms"); None for anything else."""
    try:
        return Channel(text)
    except ValueError:
        return None
