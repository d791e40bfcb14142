"""The words of the domain, as enums the database and the code share."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"

    @classmethod
    def parse(cls, text: str) -> Channel:
        """Read a channel name as a person types it ("SMS", " Email ", "post")."""
        key = text.strip().lower()
        key = {"text": "sms", "post": "letter", "call": "phone", "mail": "email"}.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(c.value for c in cls)
            raise ValueError(f"unknown channel {text.strip()!r}: use one of {names}") from None


class Role(StrEnum):
    ADMIN = "admin"
    LINK_WORKER = "link_worker"


class ExpertStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


class PastoralLevel(StrEnum):
    OFF = "off"
    MONTHLY = "monthly"
    FORTNIGHTLY = "fortnightly"
    WEEKLY = "weekly"


class AccessNeed(StrEnum):
    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"


class EngagementStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class InvitationAnswer(StrEnum):
    PENDING = "pending"
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


class Purpose(StrEnum):
    """Why a message is sent; each has its own templates."""

    PRE_BRIEF = "pre_brief"
    REMINDER = "reminder"
    CHECK_IN = "check_in"
    DE_BRIEF = "de_brief"
    FEEDBACK = "feedback"  # "you said, we did", once outcomes are recorded
    PASTORAL = "pastoral"  # keeping in touch, at the level the expert chose
    CANCELLATION = "cancellation"
    TIME_CHANGED = "time_changed"
    DETAILS = "details"  # the full details an earlier discreet message promised
    WRITTEN = "written"  # words a member of staff wrote to them, through the same gate
    PAYMENT_SENT = "payment_sent"  # we paid them; the amount only where details are safe
    WELCOME = "welcome"  # once, when their first channel is confirmed
    AGREEMENT = "agreement"  # "how we'll contact you", after the profile is confirmed or changed
    GOODBYE = "goodbye"  # their link worker's own words when they leave
    STATEMENT = "statement"  # their yearly record of payments: only where details are safe

    @property
    def essential(self) -> bool:
        """Essential news reaches even a paused expert who had said yes to the engagement."""
        return self in (Purpose.CANCELLATION, Purpose.TIME_CHANGED)

    @property
    def capped(self) -> bool:
        """Counted by the frequency cap: the messages that ask something of people or just
        say hello. Check-ins and de-briefs are the support owed after work someone did."""
        return self in (Purpose.PRE_BRIEF, Purpose.REMINDER, Purpose.FEEDBACK, Purpose.PASTORAL)


class MessageStatus(StrEnum):
    """The outbox lifecycle. Moves are checked by :func:`can_move`."""

    PENDING = "pending"  # waiting for its time (or its next try)
    SENDING = "sending"  # claimed by a worker under a lease
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider confirmed delivery
    FAILED = "failed"  # every channel failed; a person has a task
    UNCERTAIN = "uncertain"  # a crash hid whether it went: never resent automatically
    HANDED_TO_PERSON = "handed_to_person"  # a person will make this contact (a task)
    SUPPRESSED = "suppressed"  # a rule said not to send (declined, paused, withdrawn)
    CANCELLED = "cancelled"  # the reason for it went away (engagement moved or cancelled)


FINAL_STATUSES = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.HANDED_TO_PERSON,
        MessageStatus.SUPPRESSED,
        MessageStatus.CANCELLED,
    }
)

_MOVES: dict[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.PENDING: frozenset(
        {
            MessageStatus.SENDING,
            MessageStatus.CANCELLED,
            MessageStatus.SUPPRESSED,
            MessageStatus.HANDED_TO_PERSON,
            MessageStatus.FAILED,
        }
    ),
    MessageStatus.SENDING: frozenset(
        {
            MessageStatus.PENDING,
            MessageStatus.SENT,
            MessageStatus.FAILED,
            MessageStatus.UNCERTAIN,
            MessageStatus.HANDED_TO_PERSON,
            MessageStatus.SUPPRESSED,
            MessageStatus.CANCELLED,
        }
    ),
    MessageStatus.SENT: frozenset(
        {MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.PENDING}
    ),
    MessageStatus.UNCERTAIN: frozenset({MessageStatus.SENT, MessageStatus.HANDED_TO_PERSON}),
}


def can_move(current: MessageStatus, new: MessageStatus) -> bool:
    return new in _MOVES.get(current, frozenset())


class IllegalTransition(ValueError):
    pass


class AttemptOutcome(StrEnum):
    IN_PROGRESS = "in_progress"  # recorded before the provider call
    ACCEPTED = "accepted"
    TRANSIENT_FAILURE = "transient_failure"
    PERMANENT_FAILURE = "permanent_failure"
    UNKNOWN = "unknown"  # the worker died during the call


class TaskKind(StrEnum):
    PHONE_CALL = "phone_call"
    VENUE_VISIT = "venue_visit"
    REIMBURSE_COSTS = "reimburse_costs"
    DELIVERY_PROBLEM = "delivery_problem"
    CHECK_POSSIBLE_SEND = "check_possible_send"
    APPROVE_PASTORAL = "approve_pastoral"  # a pastoral draft waits for its link worker
    MISSED_YOU = "missed_you"  # someone missed a meeting: a warm, no-blame note from a person
    WELCOME_BACK = "welcome_back"  # a pause ended: get in touch gently, in person
    GET_IN_TOUCH = "get_in_touch"  # a long silence: a person checks in, never the machine
    URGENT_REPLY = "urgent_reply"  # a worrying reply: a person within the hour
    READ_REPLY = "read_reply"  # free text the machine does not answer: a person reads it
    CALL_BACK = "call_back"  # they replied CALL
    CONTACT_CHANGED = "contact_changed"  # they replied STOP, START or PAUSE: for the record
    STRANGER = "stranger"  # a message from a number or chat we do not know
    GO_OVER_DETAILS = "go_over_details"  # a promise to talk the details through in person
    SHARED_CONTACT = "shared_contact"  # experts in different caseloads share a number or email
    RECORD_PAYMENTS = "record_payments"  # after attendance: record time and expenses owed
    EXPLAIN_DECLINE = "explain_decline"  # a payment was declined: explain it in person
    NOT_SAFE = "not_safe"  # they sent their private "not safe now" word: everything stops
    EXIT_CONVERSATION = "exit_conversation"  # they left: a conversation about leaving well
    EXPERT_LEFT = "expert_left"  # for an engagement's lead: someone invited has left


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class AlertStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class OfferKind(StrEnum):
    """How an engagement recognises people's time."""

    PER_SESSION = "per_session"
    PER_HOUR = "per_hour"
    VOUCHER = "voucher"
    NONE = "none"


class PaymentPurpose(StrEnum):
    """What one ledger line pays for: one line per purpose per invitation."""

    TIME = "time"
    TRAVEL = "travel"
    CHILDCARE = "childcare"
    CARER = "carer"
    MEALS = "meals"
    OTHER = "other"
    CANCELLATION_COSTS = "cancellation_costs"


# The expenses an engagement can cover (the purposes that are not time).
EXPENSES = (
    PaymentPurpose.TRAVEL,
    PaymentPurpose.CHILDCARE,
    PaymentPurpose.CARER,
    PaymentPurpose.MEALS,
    PaymentPurpose.OTHER,
)


class PaymentStatus(StrEnum):
    """A ledger line's lifecycle: owed -> approved -> paid, or declined (with a reason)."""

    OWED = "owed"
    APPROVED = "approved"
    PAID = "paid"
    DECLINED = "declined"


PAYMENT_MOVES: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.OWED: frozenset({PaymentStatus.APPROVED, PaymentStatus.DECLINED}),
    PaymentStatus.APPROVED: frozenset({PaymentStatus.PAID, PaymentStatus.DECLINED}),
}


class PaymentMethod(StrEnum):
    """How a person chose to be paid, asked by their link worker and never guessed."""

    BANK_TRANSFER = "bank_transfer"
    VOUCHER = "voucher"
    NO_PAYMENT = "no_payment"  # "please don't pay me": a thank-you instead
    TALK_FIRST = "talk_first"  # benefits: talk to me before paying anything
