"""Staff, experts, their consent per channel, contact points and safe-contact windows."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.enums import ChangeStatus, Channel, ExpertStatus, PastoralLevel, Role
from store.models.base import Base, enum_column
from store.types import EncryptedList, EncryptedText


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[Role] = enum_column(Role)
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    away_from: Mapped[date | None]
    away_until: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Pastoral messages to this worker's experts wait as drafts until they approve each one.
    approve_pastoral: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where urgent alerts reach them; their work email when unset.
    alert_channel: Mapped[Channel | None] = enum_column(Channel, nullable=True)
    alert_to: Mapped[str | None] = mapped_column(EncryptedText)
    # Signing in to the web pages: an argon2id hash, never the password.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Bumped to sign every session of this person out (password changed, account closed).
    # No longer read: sessions live in staff_session (0007). Kept until a migration drops it.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    cover: Mapped[Staff | None] = relationship(remote_side=[id])

    def is_away(self, on: date) -> bool:
        return bool(self.away_from and self.away_from <= on <= (self.away_until or self.away_from))


class StaffSession(Base):
    """One signed-in browser. Only a hash of its id is kept: a copy of this table cannot be
    used to sign in. Ended on sign-out, a new password, a role change or a closed account."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # The client's address in coarse form (an IPv4 /24, an IPv6 /48): enough to tell an
    # office from elsewhere, not enough to pin down a home.
    client: Mapped[str] = mapped_column(String(64), default="")


class SignInFailure(Base):
    """One wrong sign-in from one client address, kept for the throttle's window so every
    worker process sees the same count; rows older than the window are deleted."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class Expert(Base):
    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(
        String(40), unique=True
    )  # the organisation's own reference
    preferred_name: Mapped[str] = mapped_column(EncryptedText)
    # No default: whoever creates one names the zone (the organisation's, from the settings).
    time_zone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16), default="en")
    # Large print, easy read: they say something about health, so encrypted (M-4).
    access_needs: Mapped[list[str]] = mapped_column(EncryptedList, default=list)
    preferred_channel: Mapped[Channel] = enum_column(Channel)
    fallback_channels: Mapped[list[str]] = mapped_column(default=list)
    discreet: Mapped[bool] = mapped_column(default=True)
    pastoral_level: Mapped[PastoralLevel] = enum_column(PastoralLevel, default=PastoralLevel.OFF)
    # This expert's own contact-plan offsets (e.g. a longer pre-brief), over the engagement's.
    plan_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # Bank holidays are closed for contact unless the expert said they are fine.
    contact_on_bank_holidays: Mapped[bool] = mapped_column(default=False, server_default=false())
    paused_until: Mapped[date | None]
    # When they last came back from a pause: that counts as hearing from them.
    resumed_at: Mapped[datetime | None]
    # A worrying reply holds every automated message until a person has looked.
    held_since: Mapped[datetime | None]
    # When a person last went through the safe-contact profile with them (asked again
    # after three months: circumstances change, and a safe phone can stop being safe).
    safe_contact_confirmed_at: Mapped[datetime | None]
    safe_contact_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[ExpertStatus] = enum_column(ExpertStatus, default=ExpertStatus.ACTIVE)
    # Their private "not safe now" word, chosen with their link worker: only its keyed hash
    # is kept, so nobody reading the database or a page can learn it.
    safe_word_hash: Mapped[str | None] = mapped_column(String(64))
    safe_word_set_at: Mapped[datetime | None]
    # Leaving: when, and why in their link worker's words (personal, so encrypted).
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(EncryptedText)
    # Personal (it can tell someone has no bank account), so encrypted like a name.
    payment_preference: Mapped[str | None] = mapped_column(EncryptedText)
    link_worker_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    link_worker: Mapped[Staff] = relationship(foreign_keys=[link_worker_id])
    consents: Mapped[list[ChannelConsent]] = relationship(
        back_populates="expert", cascade="all, delete-orphan"
    )
    contact_points: Mapped[list[ContactPoint]] = relationship(
        back_populates="expert", cascade="all, delete-orphan"
    )
    windows: Mapped[list[ContactWindow]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", order_by="ContactWindow.id"
    )
    # Changes still waiting for a second person: the router holds letters during an
    # address change. Loaded with the expert, so the pure rules can read it.
    waiting_changes: Mapped[list[ContactChange]] = relationship(
        primaryjoin=lambda: and_(
            Expert.id == ContactChange.expert_id, ContactChange.status == ChangeStatus.PENDING
        ),
        viewonly=True,
        lazy="selectin",
    )

    def channel_order(self) -> list[Channel]:
        """Preferred channel first, then the fallbacks the expert chose, without repeats."""
        order = [self.preferred_channel, *(Channel(c) for c in self.fallback_channels)]
        return list(dict.fromkeys(order))


class ChannelConsent(Base):
    """A channel is used only when a person confirmed with the expert that it is safe."""

    __tablename__ = "channel_consent"
    __table_args__ = (UniqueConstraint("expert_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = enum_column(Channel)
    allowed: Mapped[bool] = mapped_column(default=False)
    details_safe: Mapped[bool] = mapped_column(default=False)  # full details may be sent here
    confirmed_on: Mapped[date]
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))

    expert: Mapped[Expert] = relationship(back_populates="consents")
    confirmed_by: Mapped[Staff] = relationship()


class ContactPoint(Base):
    """Where to reach an expert on one channel. The value is encrypted; lookup uses the hash."""

    __tablename__ = "contact_point"
    __table_args__ = (UniqueConstraint("expert_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = enum_column(Channel)
    value: Mapped[str] = mapped_column(EncryptedText)
    lookup_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    verified_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]
    opt_out_reason: Mapped[str | None] = mapped_column(String(200))

    expert: Mapped[Expert] = relationship(back_populates="contact_points")

    @property
    def usable(self) -> bool:
        return self.verified_at is not None and self.opted_out_at is None


class ContactWindow(Base):
    """Days and local hours when contact is safe; channel None means every channel."""

    __tablename__ = "contact_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"))
    channel: Mapped[Channel | None] = enum_column(Channel, nullable=True)
    days: Mapped[str] = mapped_column(String(40))  # "mon-fri", read by scheduling.rules.windows
    start: Mapped[time]
    end: Mapped[time]

    expert: Mapped[Expert] = relationship(back_populates="windows")


class ContactChange(Base):
    """A new phone number or postal address, waiting for a second member of staff.

    A changed number is how an abuser can take over someone's messages, so the old value
    stays in use until a different person confirms the new one.
    """

    __tablename__ = "contact_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = enum_column(Channel)
    value: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[ChangeStatus] = enum_column(ChangeStatus, default=ChangeStatus.PENDING)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None]
    # For a postal address: the person who asked says letters may still go to the old one.
    old_address_safe: Mapped[bool] = mapped_column(default=False, server_default=false())

    expert: Mapped[Expert] = relationship()
    requested_by: Mapped[Staff] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[Staff | None] = relationship(foreign_keys=[decided_by_id])
