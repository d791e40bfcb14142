"""Who may see which records, and who may change them: an administrator sees and changes
everything; a link worker sees their own experts, and those of a colleague they cover while
that colleague is away.

Seeing is not changing. A link worker sees an engagement one of their experts is invited
to, but only its lead (or the lead's cover while they are away) or an administrator may
change it, since a change sends messages to every expert invited, in any caseload. And a
link worker acts only on experts in their own caseload (or one they cover).

Every page asks here, and a record someone may not see is "not found", never "forbidden":
a refusal would confirm that a person of that id is known to the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import Role
from store.models import Engagement, Expert, Invitation, Reply, Staff, Task


class NotFound(LookupError):
    """The record does not exist, or this person may not see it; they look the same."""


@dataclass(frozen=True)
class Scope:
    """The staff ids whose experts someone may see; None means every expert (admin)."""

    viewer: Staff
    worker_ids: frozenset[int] | None

    @property
    def is_admin(self) -> bool:
        return self.worker_ids is None

    def sees_worker(self, worker_id: int | None) -> bool:
        return self.worker_ids is None or worker_id in self.worker_ids

    def may_change_engagement(self, engagement: Engagement) -> bool:
        """Its lead (or their cover while they are away) or an administrator: the people
        answerable for every expert it invites."""
        return self.sees_worker(engagement.lead_id)

    def may_change_expert(self, expert: Expert) -> bool:
        """Their own link worker (or the cover while they are away) or an administrator."""
        return self.sees_worker(expert.link_worker_id)

    def experts(self) -> ColumnElement[bool]:
        """A WHERE clause on Expert for the experts in scope."""
        if self.worker_ids is None:
            return true()
        return Expert.link_worker_id.in_(self.worker_ids)

    def engagements(self) -> ColumnElement[bool]:
        """Engagements they lead (or their absent colleague leads), or that invite one of
        their experts: a link worker needs to see what their expert was invited to."""
        if self.worker_ids is None:
            return true()
        invited = (
            select(Invitation.engagement_id)
            .join(Expert, Expert.id == Invitation.expert_id)
            .where(Expert.link_worker_id.in_(self.worker_ids))
        )
        return or_(Engagement.lead_id.in_(self.worker_ids), Engagement.id.in_(invited))

    def tasks(self) -> ColumnElement[bool]:
        if self.worker_ids is None:
            return true()
        mine = select(Expert.id).where(Expert.link_worker_id.in_(self.worker_ids))
        return or_(Task.assignee_id.in_(self.worker_ids), Task.expert_id.in_(mine))

    def replies(self) -> ColumnElement[bool]:
        """Replies from their experts; a stranger's text is for an administrator."""
        if self.worker_ids is None:
            return true()
        mine = select(Expert.id).where(Expert.link_worker_id.in_(self.worker_ids))
        return Reply.expert_id.in_(mine) if self.worker_ids else false()


async def scope_for(session: AsyncSession, viewer: Staff, today: date) -> Scope:
    if viewer.role is Role.ADMIN:
        return Scope(viewer, None)
    colleagues = await session.scalars(select(Staff).where(Staff.cover_id == viewer.id))
    covering = {c.id for c in colleagues if c.is_away(today)}
    return Scope(viewer, frozenset({viewer.id, *covering}))


async def expert_in_scope(session: AsyncSession, scope: Scope, expert_id: int) -> Expert:
    expert = await session.scalar(select(Expert).where(Expert.id == expert_id, scope.experts()))
    if expert is None:
        raise NotFound(f"expert {expert_id}")
    return expert


async def engagement_in_scope(
    session: AsyncSession, scope: Scope, engagement_id: int
) -> Engagement:
    engagement = await session.scalar(
        select(Engagement).where(Engagement.id == engagement_id, scope.engagements())
    )
    if engagement is None:
        raise NotFound(f"engagement {engagement_id}")
    return engagement


async def engagement_to_change(
    session: AsyncSession, scope: Scope, engagement_id: int
) -> Engagement:
    """The engagement, if this person may change it; "not found" otherwise, even when they
    may see it, so a write reveals no more than a read."""
    engagement = await engagement_in_scope(session, scope, engagement_id)
    if not scope.may_change_engagement(engagement):
        raise NotFound(f"engagement {engagement_id}")
    return engagement


async def task_in_scope(session: AsyncSession, scope: Scope, task_id: int) -> Task:
    task = await session.scalar(select(Task).where(Task.id == task_id, scope.tasks()))
    if task is None:
        raise NotFound(f"task {task_id}")
    return task


async def reply_in_scope(session: AsyncSession, scope: Scope, reply_id: int) -> Reply:
    reply = await session.scalar(select(Reply).where(Reply.id == reply_id, scope.replies()))
    if reply is None:
        raise NotFound(f"reply {reply_id}")
    return reply
