"""How the domain's enum values read for people: the one table.

Pages, the CLI, CSV exports, task texts, the subject-access document and the demo all
take their words from here, so a channel or a purpose is spelled one way everywhere and
no raw value (``pre_brief``) or ``None`` reaches a person. A label starts with a capital,
for a table cell or a heading; ``in_sentence`` gives the same words inside a sentence.
"""

from __future__ import annotations

import re
from enum import StrEnum

from store.enums import (
    AccessNeed,
    AlertStatus,
    AttemptOutcome,
    ChangeStatus,
    Channel,
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    OfferKind,
    PastoralLevel,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Purpose,
    Role,
    TaskKind,
    TaskStatus,
)

CHANNELS: dict[Channel, str] = {
    Channel.SMS: "Text message",
    Channel.TELEGRAM: "Telegram",
    Channel.EMAIL: "Email",
    Channel.LETTER: "Letter",
    Channel.PHONE: "Phone call",
}
# The channels as staff compare providers (the delivery log, channel health): "SMS" is
# the word on the provider's own pages and bills, so it is named beside the plain words.
CHANNELS_FOR_STAFF: dict[Channel, str] = {**CHANNELS, Channel.SMS: "Text message (SMS)"}
# What a person needs to have for each channel ("their mobile phone number").
CHANNEL_ADDRESSES: dict[Channel, str] = {
    Channel.SMS: "mobile phone number",
    Channel.TELEGRAM: "linked Telegram chat",
    Channel.EMAIL: "email address",
    Channel.LETTER: "postal address",
    Channel.PHONE: "phone number",
}
PURPOSES: dict[Purpose, str] = {
    Purpose.PRE_BRIEF: "Pre-brief",
    Purpose.REMINDER: "Reminder",
    Purpose.CHECK_IN: "Check-in",
    Purpose.DE_BRIEF: "De-brief",
    Purpose.FEEDBACK: "You said, we did",
    Purpose.PASTORAL: "Keeping in touch",
    Purpose.CANCELLATION: "Cancellation",
    Purpose.TIME_CHANGED: "Change of time",
    Purpose.DETAILS: "The full details",
    Purpose.WRITTEN: "Written by staff",
    Purpose.PAYMENT_SENT: "Payment sent",
    Purpose.STATEMENT: "Yearly statement of payments",
    Purpose.WELCOME: "Welcome",
    Purpose.AGREEMENT: "How we'll contact you",
    Purpose.GOODBYE: "Goodbye",
}
# The same purposes said in full, for someone who does not know our words (an expert
# reading their own record, a cover worker reading a reply).
PURPOSE_DESCRIPTIONS: dict[Purpose, str] = {
    Purpose.PRE_BRIEF: "Information before an engagement",
    Purpose.REMINDER: "Reminder",
    Purpose.CHECK_IN: "Checking in after an engagement",
    Purpose.DE_BRIEF: "De-brief after an engagement",
    Purpose.FEEDBACK: "You said, we did",
    Purpose.PASTORAL: "Keeping in touch",
    Purpose.CANCELLATION: "Cancellation",
    Purpose.TIME_CHANGED: "Change of time",
    Purpose.DETAILS: "The full details we said we would send",
    Purpose.WRITTEN: "A message a member of staff wrote to them",
    Purpose.PAYMENT_SENT: "To say we had sent a payment",
    Purpose.STATEMENT: "Their yearly statement of what we paid them",
    Purpose.WELCOME: "A welcome when they joined",
    Purpose.AGREEMENT: "How and when we will contact them",
    Purpose.GOODBYE: "A goodbye from their link worker",
}
# One engagement's planned messages, as its page lists them: the cancellation is the notice.
PLAN_PURPOSES: dict[Purpose, str] = {**PURPOSES, Purpose.CANCELLATION: "Cancellation notice"}
MESSAGE_STATUSES: dict[MessageStatus, str] = {
    MessageStatus.PENDING: "Waiting to be sent",
    MessageStatus.SENDING: "Being sent",
    MessageStatus.SENT: "Sent",
    MessageStatus.DELIVERED: "Delivered",
    MessageStatus.FAILED: "Could not be sent",
    MessageStatus.UNCERTAIN: "Not sure whether it was sent",
    MessageStatus.HANDED_TO_PERSON: "Passed to a person to make the contact",
    MessageStatus.SUPPRESSED: "Not sent",
    MessageStatus.CANCELLED: "Cancelled",
}
# The same statuses in a word or two, for a tag in a long table (the delivery log) and a
# short sentence about one message ("This message is already 'failed'").
MESSAGE_STATUSES_BRIEF: dict[MessageStatus, str] = {
    MessageStatus.PENDING: "Waiting",
    MessageStatus.SENDING: "Sending",
    MessageStatus.SENT: "Sent",
    MessageStatus.DELIVERED: "Delivered",
    MessageStatus.FAILED: "Failed",
    MessageStatus.UNCERTAIN: "May have been sent",
    MessageStatus.HANDED_TO_PERSON: "Handed to a person",
    MessageStatus.SUPPRESSED: "Not sent: a rule stopped it",
    MessageStatus.CANCELLED: "Cancelled",
}
ATTEMPT_OUTCOMES: dict[AttemptOutcome, str] = {
    AttemptOutcome.IN_PROGRESS: "Being sent",
    AttemptOutcome.ACCEPTED: "Accepted by the provider",
    AttemptOutcome.TRANSIENT_FAILURE: "Failed, will try again",
    AttemptOutcome.PERMANENT_FAILURE: "Failed on this channel",
    AttemptOutcome.UNKNOWN: "Not known: may have been sent",
}
ANSWERS: dict[InvitationAnswer, str] = {
    InvitationAnswer.PENDING: "No answer yet",
    InvitationAnswer.YES: "Yes",
    InvitationAnswer.NO: "No",
    InvitationAnswer.MAYBE: "Maybe",
}
TASK_KINDS: dict[TaskKind, str] = {
    TaskKind.PHONE_CALL: "Phone call",
    TaskKind.CALL_BACK: "Call back",
    TaskKind.VENUE_VISIT: "Go to the venue",
    TaskKind.REIMBURSE_COSTS: "Pay back costs",
    TaskKind.DELIVERY_PROBLEM: "A message could not be sent",
    TaskKind.CHECK_POSSIBLE_SEND: "Check whether a message arrived",
    TaskKind.APPROVE_PASTORAL: "Approve a keeping-in-touch message",
    TaskKind.MISSED_YOU: "A warm note after a missed meeting",
    TaskKind.WELCOME_BACK: "Say hello after a pause",
    TaskKind.GET_IN_TOUCH: "Check in after a long silence",
    TaskKind.URGENT_REPLY: "A worrying reply to look at",
    TaskKind.READ_REPLY: "A reply to read",
    TaskKind.CONTACT_CHANGED: "For the record: they changed how we contact them",
    TaskKind.STRANGER: "A message from someone we do not know",
    TaskKind.GO_OVER_DETAILS: "Go over the details with them",
    TaskKind.SHARED_CONTACT: "Check a contact detail two experts share",
    TaskKind.RECORD_PAYMENTS: "Record time and expenses owed",
    TaskKind.EXPLAIN_DECLINE: "Explain a declined payment in person",
    TaskKind.NOT_SAFE: "Urgent: they said it is not safe now",
    TaskKind.EXIT_CONVERSATION: "A conversation about leaving",
    TaskKind.EXPERT_LEFT: "Someone invited has left",
}
TASK_STATUSES: dict[TaskStatus, str] = {
    TaskStatus.OPEN: "Open",
    TaskStatus.DONE: "Done",
    TaskStatus.CANCELLED: "No longer needed",
}
ENGAGEMENT_STATUSES: dict[EngagementStatus, str] = {
    EngagementStatus.DRAFT: "Draft",
    EngagementStatus.PUBLISHED: "Published",
    EngagementStatus.CANCELLED: "Cancelled",
    EngagementStatus.COMPLETED: "Finished",
}
EXPERT_STATUSES: dict[ExpertStatus, str] = {
    ExpertStatus.ACTIVE: "Active",
    ExpertStatus.PAUSED: "Paused",
    ExpertStatus.WITHDRAWN: "Withdrawn",
}
ROLES: dict[Role, str] = {Role.ADMIN: "Administrator", Role.LINK_WORKER: "Link worker"}
PASTORAL_LEVELS: dict[PastoralLevel, str] = {
    PastoralLevel.OFF: "Only when there is work for them",
    PastoralLevel.MONTHLY: "About once a month",
    PastoralLevel.FORTNIGHTLY: "About every two weeks",
    PastoralLevel.WEEKLY: "About once a week",
}
ACCESS_NEEDS: dict[AccessNeed, str] = {
    AccessNeed.LARGE_PRINT: "Large print",
    AccessNeed.EASY_READ: "Easy read",
}
ALERT_STATUSES: dict[AlertStatus, str] = {
    AlertStatus.PENDING: "Waiting to be sent",
    AlertStatus.SENDING: "Being sent",
    AlertStatus.SENT: "Sent",
    AlertStatus.FAILED: "Could not be sent",
}
CHANGE_STATUSES: dict[ChangeStatus, str] = {
    ChangeStatus.PENDING: "Waiting for a second person",
    ChangeStatus.CONFIRMED: "Confirmed",
    ChangeStatus.REJECTED: "Turned down",
}
OFFER_KINDS: dict[OfferKind, str] = {
    OfferKind.PER_SESSION: "A fee for the session",
    OfferKind.PER_HOUR: "A fee for each hour",
    OfferKind.VOUCHER: "A voucher",
    OfferKind.NONE: "No payment for time",
}
PAYMENT_PURPOSES: dict[PaymentPurpose, str] = {
    PaymentPurpose.TIME: "Time",
    PaymentPurpose.TRAVEL: "Travel",
    PaymentPurpose.CHILDCARE: "Childcare",
    PaymentPurpose.CARER: "Carer or support worker",
    PaymentPurpose.MEALS: "Meals",
    PaymentPurpose.OTHER: "Other costs",
    PaymentPurpose.CANCELLATION_COSTS: "Costs of a cancelled engagement",
}
PAYMENT_STATUSES: dict[PaymentStatus, str] = {
    PaymentStatus.OWED: "Owed",
    PaymentStatus.APPROVED: "Approved, waiting to be paid",
    PaymentStatus.PAID: "Paid",
    PaymentStatus.DECLINED: "Declined",
}
PAYMENT_METHODS: dict[PaymentMethod, str] = {
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.VOUCHER: "Voucher",
    PaymentMethod.NO_PAYMENT: "Please don't pay me (a thank-you instead)",
    PaymentMethod.TALK_FIRST: "Talk to me first (benefits)",
}

_TABLES: dict[type[StrEnum], dict[StrEnum, str]] = {
    Channel: CHANNELS,  # type: ignore[dict-item]
    Purpose: PURPOSES,  # type: ignore[dict-item]
    MessageStatus: MESSAGE_STATUSES,  # type: ignore[dict-item]
    AttemptOutcome: ATTEMPT_OUTCOMES,  # type: ignore[dict-item]
    InvitationAnswer: ANSWERS,  # type: ignore[dict-item]
    TaskKind: TASK_KINDS,  # type: ignore[dict-item]
    TaskStatus: TASK_STATUSES,  # type: ignore[dict-item]
    EngagementStatus: ENGAGEMENT_STATUSES,  # type: ignore[dict-item]
    ExpertStatus: EXPERT_STATUSES,  # type: ignore[dict-item]
    Role: ROLES,  # type: ignore[dict-item]
    PastoralLevel: PASTORAL_LEVELS,  # type: ignore[dict-item]
    AccessNeed: ACCESS_NEEDS,  # type: ignore[dict-item]
    AlertStatus: ALERT_STATUSES,  # type: ignore[dict-item]
    ChangeStatus: CHANGE_STATUSES,  # type: ignore[dict-item]
    OfferKind: OFFER_KINDS,  # type: ignore[dict-item]
    PaymentPurpose: PAYMENT_PURPOSES,  # type: ignore[dict-item]
    PaymentStatus: PAYMENT_STATUSES,  # type: ignore[dict-item]
    PaymentMethod: PAYMENT_METHODS,  # type: ignore[dict-item]
}
# Words that keep their capital inside a sentence.
_PROPER = {"Telegram"}


def label(value: StrEnum | None, missing: str = "Not set") -> str:
    """The words for a value, for a table cell or a heading; ``missing`` for no value."""
    if value is None:
        return missing
    return _TABLES[type(value)][value]


def status_word(status: MessageStatus) -> str:
    """The one word every page shows for a message's state (the delivery log, the
    engagement and expert pages, the preview), so the same message never reads "Planned"
    on one page and "Waiting" on another."""
    return MESSAGE_STATUSES_BRIEF[status]


def in_sentence(value: StrEnum | None, missing: str = "not set") -> str:
    """The same words inside a sentence: "sent by text message", "sent by Telegram"."""
    if value is None:
        return missing
    words = label(value)
    return words if words.split(" ", 1)[0] in _PROPER else words[:1].lower() + words[1:]


# A channel named by its stored value where the rules put one in a reason: "sms: preferred
# channel", "email skipped: ...", "outside their safe hours for sms; held until ...".
_CHANNEL_IN_REASON = re.compile(
    r"\b(" + "|".join(c.value for c in Channel) + r")(?=: | skipped|;|$)", re.MULTILINE
)


def reason_in_words(reason: str | None) -> str:
    """A recorded reason as people read it. The rules write reasons once, when they decide,
    and keep channels by value (they know no words); every page, file and story that shows
    a reason passes it through here, so "sms" reads "text message" everywhere."""
    if not reason:
        return ""
    return _CHANNEL_IN_REASON.sub(lambda m: in_sentence(Channel(m.group(1))), reason)
