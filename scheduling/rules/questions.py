"""Which of our messages ask something, so a short reply can be read as its answer.

"Yes" means nothing on its own; after a pre-brief it answers the invitation, after a
check-in "3" is how they are. The latest message that asked is the context.
"""

from __future__ import annotations

from scheduling.rules.intents import Asked
from store.enums import InvitationAnswer, Purpose
from store.models import Message

# Messages about a meeting: a reply such as "can't make it" answers the invitation.
INVITATION_PURPOSES = (Purpose.PRE_BRIEF, Purpose.REMINDER, Purpose.TIME_CHANGED)
QUESTION_PURPOSES = (*INVITATION_PURPOSES, Purpose.CHECK_IN)
# An answer to something older than this is read by a person instead.
CONTEXT_DAYS = 14

# What each button sends back, read with the same rules as a typed reply.
INVITATION_BUTTONS = (("Yes", "yes"), ("No", "no"), ("Maybe", "maybe"))
CHECK_IN_BUTTONS = (
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    ("4", "4"),
    ("5", "5"),
    ("Pass", "pass"),
)


def asked_by(message: Message | None) -> Asked:
    if message is None:
        return Asked.NOTHING
    if message.purpose is Purpose.CHECK_IN:
        return Asked.CHECK_IN
    if message.purpose in INVITATION_PURPOSES and message.engagement_id is not None:
        return Asked.INVITATION
    return Asked.NOTHING


def asks_for_answer(message: Message) -> bool:
    """A pre-brief to someone who has not answered yet asks them to."""
    invitation = message.invitation
    return (
        message.purpose is Purpose.PRE_BRIEF
        and invitation is not None
        and invitation.answer is InvitationAnswer.PENDING
    )


def answer_buttons(message: Message) -> tuple[tuple[str, str], ...]:
    """(label, callback data) for a Telegram message; data names the message it answers."""
    if message.purpose is Purpose.CHECK_IN:
        options: tuple[tuple[str, str], ...] = CHECK_IN_BUTTONS
    elif message.purpose in INVITATION_PURPOSES and message.engagement_id is not None:
        options = INVITATION_BUTTONS
    else:
        return ()
    return tuple((label, f"a:{message.id}:{value}") for label, value in options)


def parse_button(data: str) -> tuple[int, str] | None:
    """(message id, answer text) from a button's callback data, or None when it is not ours."""
    kind, _, rest = data.partition(":")
    message_id, _, value = rest.partition(":")
    if kind != "a" or not message_id.isdigit() or not value or len(value) > 10:
        return None
    return int(message_id), value
