"""What each expert has said and staff have recorded (the model), and the harm invariants
checked against every ``Sent`` the service actually produced.

The model is written from the actions alone (a STOP texted, a consent withdrawn, a
worrying reply not yet looked at), never read back from the service's own flags, so a
flag the service forgets to set is caught too. Each check returns sentences naming the
invariant, the person, the channel and the words, for hypothesis to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.bootstrap import App
from store.enums import Channel, Purpose
from store.models.promises import Promise
from tests.integration.harm.world import Sent

BLOCKED_FILE = Path(__file__).resolve().parents[3] / "templates" / "discreet_blocked_words.txt"
_NONE = re.compile(r"\bNone\b")

# An invariant whose harm is known and not yet fixed: still checked, but a breach is only
# recorded instead of failing the property run. None is today; the harms found before the
# fixes keep their shortest failing sequence as a replay in test_harm_invariants.py.
KNOWN_BROKEN: dict[str, bool] = {
    "consent": False,  # issue 12 harm 1, fixed by the outbound gate
    "discreet": False,  # issue 12 harm 2, fixed by neutral support-line labels
    "address": False,  # issue 12 harm 8, fixed: letters wait for the second person
    "hold": False,
    "pause": False,
    "window": False,
    "one_copy": False,
    "no_none": False,
}


def blocked_words() -> list[str]:
    lines = BLOCKED_FILE.read_text(encoding="utf-8").splitlines()
    return [w.strip().lower() for w in lines if w.strip() and not w.startswith("#")]


def _has_word(text: str, word: str) -> bool:
    if not word[0].isalnum():
        return word in text
    return re.search(rf"(?<![\w]){re.escape(word)}", text) is not None


@dataclass
class Person:
    """One expert as the model knows them."""

    name: str
    zone: str
    windows: list[tuple[set[int], time, time]]  # weekdays (0 = Monday), start, end
    discreet: bool
    consent: dict[Channel, bool] = field(default_factory=dict)  # channel -> details safe
    stopped: set[Channel] = field(default_factory=set)
    withdrawn: bool = False
    held: bool = False
    paused_until: date | None = None
    address_pending: bool = False

    def in_window(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.zone))
        return any(
            local.weekday() in days and start <= local.time() < end
            for days, start, end in self.windows
        )

    def paused(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.zone)).date()
        return self.paused_until is not None and local < self.paused_until


@dataclass
class Breach:
    invariant: str
    sent: Sent
    why: str

    def __str__(self) -> str:
        return (
            f"[{self.invariant}] {self.why}: {self.sent.channel.value} to {self.sent.expert} "
            f"at {self.sent.at.isoformat()} ({self.sent.purpose or 'answer'}): "
            f"{self.sent.body[:160]!r}"
        )


def _answer_is_exempt(sent: Sent) -> bool:
    """The reply to STOP itself, and the support lines answer to a worrying text."""
    said = (sent.answer_to or "").strip().lower()
    return said in ("stop", "/stop") or "116 123" in sent.body


def check(sent: Sent, person: Person, words: list[str]) -> list[Breach]:
    """Every invariant for one piece of text, against the model as it stood when it left."""
    out: list[Breach] = []
    answer = sent.purpose is None
    purpose = sent.purpose
    essential = purpose is not None and purpose.essential

    def breach(name: str, why: str) -> None:
        out.append(Breach(name, sent, why))

    exempt = answer and _answer_is_exempt(sent)
    if not exempt:
        if sent.channel not in person.consent:
            breach("consent", "no consent for this channel")
        if sent.channel in person.stopped:
            breach("consent", "after STOP on this channel")
        if person.withdrawn:
            breach("consent", "after they withdrew")
    if person.held and not (answer and "116 123" in sent.body) and purpose != Purpose.CANCELLATION:
        breach("hold", "during a hold after a worrying reply")
    if not answer and not essential and person.paused(sent.at):
        breach("pause", "while contact is paused")
    if not answer and sent.channel is not Channel.LETTER and not person.in_window(sent.at):
        breach("window", "outside their safe hours")
    if person.discreet and not person.consent.get(sent.channel, False):
        lowered = sent.body.lower()
        found = [w for w in words if _has_word(lowered, w)]
        if found:
            breach("discreet", f"blocked words {found} on a channel not safe for details")
    if _NONE.search(sent.body):
        breach("no_none", "the word None rendered")
    if sent.channel is Channel.LETTER and person.address_pending:
        breach("address", "a letter while a new address awaits a second person")
    return out


def duplicates(sent: list[Sent]) -> list[Breach]:
    """At most one copy of any outbox message reached anyone."""
    seen: dict[int, Sent] = {}
    out = []
    for s in sent:
        if s.message_id is None:
            continue
        if s.message_id in seen:
            out.append(Breach("one_copy", s, f"message {s.message_id} arrived twice"))
        seen[s.message_id] = s
    return out


async def overdue_promises(app: App, now: datetime) -> list[str]:
    """Promises past their deadline that were neither kept nor escalated to a person."""
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Promise).where(
                Promise.kept_at.is_(None), Promise.escalated_at.is_(None), Promise.due_at < now
            )
        )
        return [
            f"promise {p.id} ({p.kind}) for expert {p.expert_id} was due {p.due_at:%d %b %H:%M}"
            for p in rows
        ]
