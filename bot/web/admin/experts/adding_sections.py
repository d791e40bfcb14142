"""Adding an expert as a task list: the sections, what each keeps, and how the whole draft
is checked and read back on the check-your-answers page.

The whole draft is checked by the same `expert_from_form` the service rules sit behind,
every time; each error is then shown in the section its field belongs to. Consent is
asked once: every way chosen in "Channels and consent" is a way they agreed to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.services.experts.details import ExpertInput
from bot.web.admin.experts.forms import (
    ALL_DAY,
    FormError,
    NewExpertForm,
    expert_from_form,
    form_window,
    parsed_channel,
)
from bot.web.admin.experts.shared import NEW_CHANNELS
from scheduling.text.words import CHANNEL_ADDRESSES, label
from store.enums import AccessNeed, Channel, PastoralLevel
from store.errors import Refused
from store.models import Staff


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    fields: tuple[str, ...]  # what the section's page posts, kept in the draft
    lists: tuple[str, ...] = ()  # those of them that are checkboxes
    required: bool = True  # optional ones have a default (the usual hours; you)
    hint: str = ""

    def owns(self, error_field: str) -> bool:
        return error_field in self.fields or (
            self.slug == "channels" and error_field.startswith("consent_")
        )


SECTIONS = (
    Section("name", "Name and reference", ("preferred_name", "ref", "time_zone")),
    Section("contact", "Contact details", ("phone", "email", "postal_address")),
    Section(
        "channels",
        "Channels and consent",
        ("preferred_channel", "fallback_channels", "details", "discreet", "access_needs"),
        lists=("fallback_channels", "details", "access_needs"),
    ),
    Section(
        "times",
        "Safe times",
        ("window_days", "window_from", "window_until", "window_all_day"),
        lists=("window_days",),
        required=False,
        hint="If you leave it, every day from 9am to 8pm",
    ),
    Section(
        "worker",
        "Link worker and keeping in touch",
        ("link_worker", "pastoral_level"),
        required=False,
        hint="If you leave it, you, and no keeping-in-touch messages",
    ),
)
BY_SLUG = {s.slug: s for s in SECTIONS}


def defaults(viewer: Staff, zone: str) -> dict[str, Any]:
    """What a new draft starts with, shown in the forms before anything is typed."""
    return {
        "time_zone": zone,
        "discreet": "yes",
        "link_worker": str(viewer.id),
        "pastoral_level": PastoralLevel.OFF.value,
    }


def section_values(section: Section, form: dict[str, Any]) -> dict[str, Any]:
    """One section's answers from its posted form (lists for its checkboxes)."""
    return {f: form.get(f, [] if f in section.lists else "") for f in section.fields}


def check_draft(
    answers: dict[str, Any], workers: dict[str, Staff], today: date, viewer: Staff
) -> tuple[ExpertInput | None, dict[str, str]]:
    """The expert the draft describes, or every problem with it by form field."""
    worker = workers.get(str(answers.get("link_worker", "")))
    chosen = [str(answers.get("preferred_channel", "")), *_list(answers, "fallback_channels")]
    fallbacks = [c for c in _list(answers, "fallback_channels") if c != chosen[0]]
    form = NewExpertForm(
        preferred_name=str(answers.get("preferred_name", "")),
        ref=str(answers.get("ref", "")),
        link_worker=worker.email if worker else viewer.email,
        time_zone=str(answers.get("time_zone", "")),
        discreet=answers.get("discreet") != "no",
        access_needs=_list(answers, "access_needs"),
        phone=str(answers.get("phone", "")),
        email=str(answers.get("email", "")),
        postal_address=str(answers.get("postal_address", "")),
        preferred_channel=chosen[0],
        fallback_channels=fallbacks,
        allow=[c for c in dict.fromkeys(chosen) if parsed_channel(c) in NEW_CHANNELS],
        details=_list(answers, "details"),
        window_days=[],
        window_from="",
        window_until="",
        pastoral_level=str(answers.get("pastoral_level", "")),
        confirmed_on=today,
        confirmed_by=viewer.email,
    )
    errors: dict[str, str] = {}
    if worker is None:
        errors["link_worker"] = "Select their link worker from the list"
    if answers.get("discreet") not in ("yes", "no"):
        errors["discreet"] = "Select yes or no"
    valid: ExpertInput | None = None
    try:
        valid = expert_from_form(form, NEW_CHANNELS)
    except Refused as exc:
        errors.update(_reworded(exc.by_field("preferred_name"), form))
    window = _window(answers, errors)
    if errors:
        return None, errors
    assert valid is not None
    return valid.model_copy(update={"windows": [window] if window else []}), {}


def _window(answers: dict[str, Any], errors: dict[str, str]) -> Any:
    days = _list(answers, "window_days")
    start, end = str(answers.get("window_from", "")), str(answers.get("window_until", ""))
    all_day = answers.get("window_all_day") == ALL_DAY
    if not (days or start or end or all_day):
        return None
    try:
        return form_window(days, start, end, all_day=all_day)
    except FormError as exc:
        errors.update(exc.errors)
        return None


def _reworded(errors: dict[str, str], form: NewExpertForm) -> dict[str, str]:
    """The one-page form's words, for the sections: a way chosen with no address for it
    belongs to "Channels and consent", and says where to add the address."""
    out: dict[str, str] = {}
    for field, text in errors.items():
        if field.startswith("consent_"):
            channel = parsed_channel(field.removeprefix("consent_"))
            if channel is None or "only go a way" in text:
                out.setdefault("details", "Select only ways they agree to, chosen above")
                continue
            where = "preferred_channel" if form.preferred_channel == channel.value else None
            out[where or "fallback_channels"] = (
                f"Enter their {CHANNEL_ADDRESSES[channel]} in Contact details, or choose "
                "another way"
            )
        elif field in _ADDRESSES and text.startswith("Add their "):
            out.setdefault(
                "preferred_channel",
                f"Enter their {_ADDRESSES[field]} in Contact details, or choose another way",
            )
        else:
            out.setdefault(field, text)
    return out


_ADDRESSES = {"phone": "phone number", "email": "email address", "postal_address": "postal address"}


def _list(answers: dict[str, Any], key: str) -> list[str]:
    value = answers.get(key) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def status(section: Section, answers: dict[str, Any], errors: dict[str, str]) -> str:
    """The task list's words for a section: Completed, Incomplete or Not yet started."""
    if section.slug not in answers.get("saved", []):
        return "Not yet started" if section.required else "Optional"
    return "Incomplete" if any(section.owns(f) for f in errors) else "Completed"


def summary(
    section: Section, answers: dict[str, Any], workers: dict[str, Staff], viewer: Staff
) -> list[tuple[str, str, str]]:
    """Check-your-answers rows for a section: (question, answer, field to change)."""
    get = answers.get
    if section.slug == "name":
        return [
            ("Name they would like us to use", str(get("preferred_name") or ""), "preferred_name"),
            ("Reference", str(get("ref") or "") or "Not given", "ref"),
            ("Time zone", str(get("time_zone") or ""), "time_zone"),
        ]
    if section.slug == "contact":
        return [
            ("Mobile phone number", str(get("phone") or "") or "Not given", "phone"),
            ("Email address", str(get("email") or "") or "Not given", "email"),
            ("Postal address", str(get("postal_address") or "") or "Not given", "postal_address"),
        ]
    if section.slug == "channels":
        preferred = parsed_channel(str(get("preferred_channel") or ""))
        others = _channel_words(_list(answers, "fallback_channels"), "None")
        needs = [label(n) for n in AccessNeed if n.value in _list(answers, "access_needs")]
        return [
            ("Preferred way, agreed today", label(preferred, "Not chosen"), "preferred_channel"),
            ("Other ways they agree to", others, "fallback_channels"),
            (
                "Full details may go by",
                _channel_words(
                    _list(answers, "details"), "None: messages only say to get in touch"
                ),
                "details",
            ),
            ("Discreet wording", "No" if get("discreet") == "no" else "Yes", "discreet"),
            ("Access needs", ", ".join(needs) or "None", "access_needs"),
        ]
    if section.slug == "times":
        window = _window(answers, {})
        words = window.parsed().describe() if window else "Every day, 9am to 8pm (the usual hours)"
        return [("When contact is safe", words[:1].upper() + words[1:], "window_days")]
    worker = workers.get(str(get("link_worker", "")), viewer)
    level = next((p for p in PastoralLevel if p.value == get("pastoral_level")), PastoralLevel.OFF)
    return [
        ("Link worker", worker.name, "link_worker"),
        ("Keeping in touch", label(level), "pastoral_level"),
    ]


def _channel_words(values: list[str], none: str) -> str:
    chosen = [c for c in Channel if c.value in values]
    return ", ".join(label(c) for c in chosen) or none
