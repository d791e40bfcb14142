"""All tables. Import from here so every model is registered on the metadata."""

from store.models.base import Base
from store.models.drafts import ExpertDraft
from store.models.engagements import (
    ADVANCE_INFORMATION_FIELDS,
    Engagement,
    Invitation,
    PlanSetting,
)
from store.models.inbox import StaffAlert, TelegramLink
from store.models.notes import StaffNote
from store.models.outbox import DeliveryAttempt, Message
from store.models.payments import PaymentChange, PaymentLine
from store.models.people import (
    ChannelConsent,
    ContactChange,
    ContactPoint,
    ContactWindow,
    Expert,
    SignInFailure,
    Staff,
    StaffSession,
)
from store.models.promises import Promise
from store.models.work import AuditEvent, Meta, OrgSetting, Reply, Task

__all__ = [
    "ADVANCE_INFORMATION_FIELDS",
    "AuditEvent",
    "Base",
    "ChannelConsent",
    "ContactChange",
    "ContactPoint",
    "ContactWindow",
    "DeliveryAttempt",
    "Engagement",
    "Expert",
    "ExpertDraft",
    "Invitation",
    "Message",
    "Meta",
    "OrgSetting",
    "PaymentChange",
    "PaymentLine",
    "PlanSetting",
    "Promise",
    "Reply",
    "SignInFailure",
    "Staff",
    "StaffAlert",
    "StaffNote",
    "StaffSession",
    "Task",
    "TelegramLink",
]
