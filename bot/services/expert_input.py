"""One validated description of an expert, shared by CSV import, the demo and forms.

Every check says which field is wrong and how to put it right, so a person fixing a
spreadsheet row knows exactly what to change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from scheduling.windows import SafeWindow, WindowError, load_zone
from store.enums import AccessNeed, Channel, PastoralLevel


def normalise_phone(text: str, region: str = "GB") -> str:
    """E.164 form ("+447700900123"), the form the blind index is built from."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number (example: 07123 456789)") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number (example: 07123 456789)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(text: str) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{text!r} is not a valid email address: {exc}") from None
    return result.normalized.lower()


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]
    return value


Optional = Annotated[str | None, BeforeValidator(_blank_to_none)]


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

    ref: Optional = None
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
        try:
            load_zone(value)  # the same check as at send time, so it cannot fail there
        except WindowError as exc:
            raise ValueError(str(exc)) from None
        return value

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
        if not value:
            return None
        lines = [line.strip() for line in value.replace(";", "\n").splitlines() if line.strip()]
        if len(lines) < 2:
            raise ValueError("a postal address needs at least two lines (street and postcode)")
        return "\n".join(lines)

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
