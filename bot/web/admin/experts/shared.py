"""What the experts pages share: the `Web` reached through the request, how an expert is
named, the form filled in again, and the rows and words several pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.services.experts import contact_changes as changes
from bot.services.experts.profile import list_experts, load_profile
from bot.services.staff.access import expert_in_scope
from bot.web.admin.experts.forms import DAY_KEYS
from bot.web.admin.pages import Page
from scheduling.rules.windows import SafeWindow, WindowError
from scheduling.text.words import (
    ACCESS_NEEDS,
    CHANNEL_ADDRESSES,
    CHANNELS,
    PASTORAL_LEVELS,
    in_sentence,
)
from store.enums import Channel
from store.models import ContactChange, ContactWindow, Expert

# Telegram joins later, through the expert's own one-time link.
NEW_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.LETTER, Channel.PHONE)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_LABELS = dict(zip(DAY_KEYS, _DAY_NAMES, strict=True))
_LISTS = ("allow", "details", "fallback_channels", "access_needs", "window_days")


@dataclass(frozen=True)
class ChangeRow:
    """A change waiting for a second person, as staff read it."""

    change: ContactChange
    what: str
    old: str
    new: str
    shared: bool
    mine: bool


def common(page: Page | None = None, **context: Any) -> dict[str, Any]:
    """The words every experts template may use, with the page's own context; with the
    page, the organisation's time zone too (the zone forms suggest)."""
    zone = {"default_zone": page.web.built.settings.default_time_zone} if page else {}
    return {
        **zone,
        "channel_labels": CHANNELS,
        "access_labels": ACCESS_NEEDS,
        "level_labels": PASTORAL_LEVELS,
        "day_labels": DAY_LABELS,
        "channel_address": CHANNEL_ADDRESSES,
        **context,
    }


def label(expert: Expert) -> str:
    """How staff pages name an expert: their reference and the name they use."""
    return f"{expert.ref}: {expert.preferred_name}" if expert.ref else expert.preferred_name


def flash_name(expert: Expert) -> str:
    """A banner line travels in the session cookie, which is signed, not encrypted: it
    names an expert by reference, never by name."""
    return expert.ref or f"expert {expert.id}"


def posted(page: Page) -> dict[str, Any]:
    """The posted form, to fill the fields again (lists for the checkboxes)."""
    if page.form is None:
        return {}
    values: dict[str, Any] = {k: page.field(k) for k in page.form if k not in _LISTS}
    values.update({k: page.fields(k) for k in _LISTS})
    return values


async def expert_page(page: Page, expert_id: int) -> Expert:
    """One expert, or "not found" for someone who may not see them."""
    await expert_in_scope(page.session, page.scope, expert_id)
    return await load_profile(page.session, expert_id)


@dataclass(frozen=True)
class SharedWith:
    """Other experts with the same number or email, as far as the viewer may know them."""

    visible: list[Expert]
    hidden: int


async def sharing(page: Page, expert_ids: list[int]) -> dict[int, SharedWith]:
    """Shared contact flags, only with experts the viewer may see: across caseloads it would
    tell them a stranger uses the service (an administrator checks those)."""
    found = await changes.shared_contacts(page.session, expert_ids, within=page.scope.experts())
    others = {i for ids in found.values() for i in ids}
    known = {e.id: e for e in await list_experts(page.session, Expert.id.in_(others))}
    result = {}
    for expert_id, ids in found.items():
        visible = [known[i] for i in sorted(ids) if page.scope.sees_worker(known[i].link_worker_id)]
        result[expert_id] = SharedWith(visible, len(ids) - len(visible))
    return result


async def change_rows(page: Page, rows: list[ContactChange], expert: Expert) -> list[ChangeRow]:
    """Waiting changes as staff read them: old and new value, and whether it is shared."""
    cipher = page.web.built.cipher
    out = []
    for change in rows:
        shared = change.channel in changes.SHARED_CHANNELS and bool(
            await changes.others_with(
                page.session,
                cipher,
                change.value,
                besides=expert.id,
                within=page.scope.experts(),
            )
        )
        out.append(
            ChangeRow(
                change=change,
                what=changes.KIND_WORDS.get(change.channel, in_sentence(change.channel)),
                old=changes.shown(change.channel, changes.current_value(expert, change.channel))
                or "none",
                new=changes.shown(change.channel, change.value),
                shared=shared,
                mine=change.requested_by_id == page.viewer.id,
            )
        )
    return out


def describe(window: ContactWindow) -> str:
    """A stored window in words ("Monday to Friday, 9am to 5pm")."""
    try:
        words = SafeWindow.parse(window.days, f"{window.start:%H:%M}-{window.end:%H:%M}").describe()
    except WindowError:
        words = f"{window.days}, {window.start:%H:%M} to {window.end:%H:%M}"
    if window.channel is not None:
        words += f" (for {in_sentence(window.channel)} only)"
    return words
