"""What reaches the listening rules, what they say back, and what they are built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.services.contact_details import normalise_phone
from scheduling.people.reply_escalation import AckLimits
from scheduling.rules.discreet_words import BlockedWords
from scheduling.rules.distress import DistressWords
from scheduling.rules.plan import PlanOffsets
from scheduling.rules.support_lines import SupportLine
from scheduling.text.rendering import Renderer
from store.crypto import Cipher
from store.enums import Channel

ACTOR = "expert (by reply)"
MAX_BODY_CHARS = 4000


@dataclass(frozen=True)
class Inbound:
    """One message from outside, as a webhook received it."""

    channel: Channel
    provider_ref: str  # "twilio:SM…" or "telegram:<update id>": the same one twice is a repeat
    sender: str  # the phone number or chat id it came from
    text: str
    received_at: datetime
    answers_message_id: int | None = None  # a Telegram button names the message it answers
    provider_keyword: str | None = None  # Twilio handled STOP/START/HELP itself and replied
    link_code: str | None = None  # Telegram "/start <code>": linking a chat
    # An email reply that names a message we sent them (its token or In-Reply-To) is from
    # that expert, whichever address it came from.
    expert_id: int | None = None
    # Kept with the text for staff but not read by the rules: "they attached a file".
    note: str | None = None
    # Why a person must read it whatever it seems to say (an email that could not be read
    # properly): it always opens a task.
    unclear: bool = False
    # False: nothing is said back (an automatic email, such as an out-of-office: two
    # machines must not write to each other for ever).
    answerable: bool = True


@dataclass(frozen=True)
class Heard:
    duplicate: bool = False
    reply_id: int | None = None
    answer: str | None = None  # what to say back now, on the same channel, if anything


@dataclass(frozen=True)
class Listening:
    """What the listening rules need, built once at start-up."""

    cipher: Cipher
    renderer: Renderer
    distress: DistressWords
    support_lines: tuple[SupportLine, ...]
    offsets: PlanOffsets
    ack: AckLimits
    # The organisation's zone: whether a member of staff is away today is read in it.
    office_tz: str
    answer_free_text: bool = True
    # The organisation's shortest gap between keeping-in-touch messages (MORE stops there).
    pastoral_min_days: int = 7
    # The discreet word list every answer is checked against on a channel not safe for details.
    blocked: BlockedWords = field(default_factory=BlockedWords.load)


def sender_key(channel: Channel, sender: str) -> str:
    """The form contact points are stored in, so the keyed hash matches."""
    if channel is Channel.SMS:
        try:
            return normalise_phone(sender)
        except ValueError:
            return sender.strip()
    return sender.strip()
