"""The expert's own say over contact, as pure rules (no I/O).

* ``LATER``: today's non-essential messages wait for their next safe window, never into
  unsafe hours and never past a message's deadline or its event.
* ``LESS`` / ``MORE``: one step down or up the keeping-in-touch levels, within the
  organisation's minimum gap.
* The private "not safe now" word: how it is compared, and which words cannot be one.
* The "how we'll contact you" summary goes only where details are safe, or by letter.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduling.rules.distress import TEMPLATES, DistressWords
from scheduling.rules.intents import Asked, Intent, understand
from scheduling.rules.pastoral import INTERVAL_DAYS
from scheduling.rules.reply_text import words_of
from scheduling.rules.windows import (
    ContactRules,
    WindowError,
    is_allowed,
    next_allowed,
    window_end,
)
from store.enums import Channel, PastoralLevel
from store.models import Expert

COMMON_WORDS = TEMPLATES / "common_words.txt"
SAFE_WORD_LETTERS = (3, 40)  # shortest and longest, in characters, once tidied
# The levels from least to most contact.
LEVELS = (PastoralLevel.OFF, PastoralLevel.MONTHLY, PastoralLevel.FORTNIGHTLY, PastoralLevel.WEEKLY)


# --- LATER ----------------------------------------------------------------------------------------


def next_window(now: datetime, rules: ContactRules) -> datetime | None:
    """The start of their next safe window after the one they are in now (or the next one
    to open, when none is open). None when no window opens within the rules' horizon."""
    try:
        if is_allowed(now, rules):
            end = window_end(now, rules)
            return None if end is None else next_allowed(end, rules)
        return next_allowed(now, rules)
    except WindowError:
        return None


def end_of_today(now: datetime, tz: str) -> datetime:
    """Midnight at the end of their own today, in UTC: what counts as "today's" messages."""
    zone = ZoneInfo(tz)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(UTC)


def moved_later(
    scheduled: datetime, target: datetime | None, deadline: datetime | None
) -> datetime | None:
    """When a message due at ``scheduled`` goes instead: at ``target`` (their next safe
    window), never earlier than it was already due. None: it cannot wait that long (no
    window, or the window opens after its deadline or event)."""
    if target is None:
        return None
    moved = max(scheduled, target)
    if deadline is not None and moved > deadline:
        return None
    return moved


# --- LESS and MORE ------------------------------------------------------------------------------


def allowed(level: PastoralLevel, min_days: int) -> bool:
    days = INTERVAL_DAYS.get(level)
    return days is None or days >= min_days


def step_level(level: PastoralLevel, more: bool, min_days: int) -> PastoralLevel:
    """One step more or less often; the same level at either end, or when one step more
    would be more often than the organisation allows."""
    at = LEVELS.index(level)
    wanted = LEVELS[min(at + 1, len(LEVELS) - 1)] if more else LEVELS[max(at - 1, 0)]
    return wanted if allowed(wanted, min_days) else level


# --- the "not safe now" word --------------------------------------------------------------------


def safe_word_form(text: str) -> str:
    """The word as it is compared and hashed: words only, lower case, single spaces, so
    "Pineapple!" and " pineapple" are the same word."""
    return " ".join(words_of(text))


@cache
def common_words(path: Path = COMMON_WORDS) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        safe_word_form(line) for line in lines if line.strip() and not line.startswith("#")
    )


def safe_word_problem(text: str, distress: DistressWords) -> str | None:
    """Why ``text`` cannot be their "not safe now" word, in words for the link worker;
    None when it can. It must be unusual enough never to be sent by chance, and mean
    nothing else to Linkline (no keyword, answer or worrying phrase)."""
    form = safe_word_form(text)
    shortest, longest = SAFE_WORD_LETTERS
    if not form:
        return "Enter a word made of letters"
    if not form.replace(" ", "").isalpha():
        return "Use letters only, with no numbers or symbols"
    if len(form) < shortest or len(form) > longest:
        return f"Use a word of {shortest} to {longest} letters"
    if len(form.split()) > 3:
        return "Use one word, or a short phrase of up to three words"
    if form in common_words() or all(word in common_words() for word in form.split()):
        return "That word is too common: people send it without meaning anything by it"
    if distress.matches(form) or any(
        understand(form, asked, distress).intent is not Intent.OTHER for asked in Asked
    ):
        return "That word already means something to Linkline: choose another"
    return None


# --- the summary --------------------------------------------------------------------------------


def summary_channels(expert: Expert) -> list[Channel]:
    """Where "how we'll contact you" may go: a channel agreed for full details, or a
    letter (it is read inside an envelope), in the person's order. Never a call: a
    person goes through it with them instead."""
    safe = _agreed(expert, details=True) | (_agreed(expert) & {Channel.LETTER})
    return [c for c in expert.channel_order() if c in safe and c is not Channel.PHONE]


def not_for_summary(expert: Expert) -> set[Channel]:
    return set(Channel) - set(summary_channels(expert))


def _agreed(expert: Expert, *, details: bool = False) -> set[Channel]:
    consented = {
        c.channel for c in expert.consents if c.allowed and (c.details_safe or not details)
    }
    usable = {p.channel for p in expert.contact_points if p.usable}
    return consented & usable
