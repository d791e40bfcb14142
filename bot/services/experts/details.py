"""One validated description of an expert, shared by CSV import, the demo and forms.

Every check says which field is wrong and how to put it right, so a person fixing a
spreadsheet row knows exactly what to change. Reading an HTML form into these models is
the staff pages' job (``bot/web/admin/experts/forms.py``).

Validation reads no clock: a caller that knows today passes it as validation context
(``ExpertInput.model_validate(data, context={"today": day})``), and ``create_expert``
checks the consent date again against the injected clock.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.services.contact_details import normalise_address, normalise_email, normalise_phone
from bot.settings import Settings
from scheduling.rules.windows import SafeWindow, WindowError, load_zone
from store.enums import AccessNeed, Channel, PastoralLevel

# Only for a model built without a zone (a test, a benchmark): the pages, the CLI and CSV
# import give the organisation's zone from the running settings.
FALLBACK_ZONE: str = Settings.model_fields["default_time_zone"].default


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
# Free text, so bounded the same on every database (the column itself is encrypted text).
MAX_PAYMENT_PREFERENCE = 200
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


FUTURE_CONSENT = "consent_confirmed_on is in the future"


class ExpertInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    ref: Ref = None
    preferred_name: str = Field(min_length=1, max_length=80)
    link_worker: str = Field(min_length=1, description="the link worker's email")
    time_zone: str = FALLBACK_ZONE
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
    payment_preference: Annotated[
        Annotated[str, Field(max_length=MAX_PAYMENT_PREFERENCE)] | None,
        BeforeValidator(_blank_to_none),
    ] = None

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
    def _coherent(self, info: ValidationInfo) -> ExpertInput:
        order = [self.preferred_channel, *self.fallback_channels]
        if len(set(order)) != len(order):
            raise ValueError("a channel is listed twice in preferred_channel and fallbacks")
        for channel in order:
            if self.address_for(channel) is None:
                raise ValueError(
                    f"{channel.value} is chosen but there is no {ADDRESS_FIELD[channel]}"
                )
        if any(c.allowed for c in self.consent.values()) and not (
            self.consent_confirmed_on and self.consent_confirmed_by
        ):
            raise ValueError(
                "consent needs consent_confirmed_on and consent_confirmed_by: a channel is only "
                "used once a named person has confirmed with the expert that it is safe"
            )
        today = (info.context or {}).get("today")
        if today is not None and self.consent_confirmed_on and self.consent_confirmed_on > today:
            raise ValueError(FUTURE_CONSENT)
        return self

    def consent_date_problem(self, today: date) -> str | None:
        """Why the consent date cannot stand on ``today`` (the injected clock's), or None."""
        if self.consent_confirmed_on and self.consent_confirmed_on > today:
            return FUTURE_CONSENT
        return None

    def address_for(self, channel: Channel) -> str | None:
        return {
            Channel.SMS: self.phone,
            Channel.PHONE: self.phone,
            Channel.TELEGRAM: self.telegram_chat_id,
            Channel.EMAIL: self.email,
            Channel.LETTER: self.postal_address,
        }[channel]


ADDRESS_FIELD = {
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
    time_zone: str = FALLBACK_ZONE
    language: str = Field("en", min_length=2, max_length=16)
    access_needs: Annotated[list[AccessNeed], BeforeValidator(_split_list)] = []
    discreet: bool = True

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)
