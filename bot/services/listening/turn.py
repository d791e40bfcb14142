"""One inbound message being handled, and what every listening rule shares: the words we
send back, who is responsible for the expert today, and the task a reply opens."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from bot.services.listening.inbound import Inbound, Listening
from scheduling.clock import local_today
from scheduling.people.reply_escalation import ack_deadline
from scheduling.people.staff_alerts import alert_each
from scheduling.people.tasks import open_task
from scheduling.rules.cover import responsible_staff
from scheduling.rules.support_lines import open_now
from scheduling.sending.gate import Kind, Outbound, check, details_safe, record_refusal
from scheduling.text.context import signature
from store.enums import Channel, TaskKind
from store.models import ContactPoint, Expert, Message, Reply, Staff, Task

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """One inbound message being handled: what it meant, what we do, what we say."""

    session: AsyncSession
    rules: Listening
    inbound: Inbound
    reply: Reply
    answer: str | None = None
    # The latest question each expert found as the sender was asked, found with them.
    asked: dict[int, Message | None] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.inbound.received_at

    @contextmanager
    def reading(self) -> Iterator[None]:
        """For a read that never looks at this reply's own row: what the rules decided about
        the reply so far waits for the commit (one UPDATE in all, not one before each
        read). Anything else waiting to be written still is written first, as usual."""
        session = self.session.sync_session
        only_reply = not session.new and not session.deleted
        only_reply = only_reply and all(obj is self.reply for obj in session.dirty)
        with session.no_autoflush if only_reply else nullcontext():
            yield

    async def task_for_reply(
        self,
        kind: TaskKind,
        title: str,
        details: str,
        *,
        assignee: Staff | None,
        expert: Expert | None = None,
        urgent: bool = False,
    ) -> Task:
        """A task for a person about this reply, due within the hour when urgent and
        within the usual working days otherwise; the reply points at it."""
        limits = self.rules.ack
        task = await open_task(
            self.session,
            kind=kind,
            title=title,
            details=details,
            now=self.now,
            assignee=assignee,
            expert=expert,
            urgent=urgent,
            due_at=self.now + limits.urgent if urgent else ack_deadline(self.now, False, limits),
        )
        self.reply.task_id = task.id
        return task

    async def tell_worker(self, expert: Expert, details: str) -> None:
        """STOP, START and PAUSE are honoured at once; the link worker hears of it."""
        await self.task_for_reply(
            TaskKind.CONTACT_CHANGED,
            "For your information: they changed how we contact them",
            details,
            assignee=self.assignee(expert),
            expert=expert,
        )

    async def alert(self, targets: list[Staff], task: Task) -> None:
        """An urgent alert to each of them, once per reply and person."""
        await alert_each(
            self.session,
            targets,
            reason="urgent_reply",
            task=task,
            about=f"urgent:{self.reply.id}",
            now=self.now,
        )
        if not targets:
            log.error("reply %s is urgent and no member of staff can be alerted", self.reply.id)

    async def load_expert(self, expert_id: int) -> Expert:
        expert = await self.session.scalar(
            select(Expert)
            .where(Expert.id == expert_id)
            .options(
                joinedload(Expert.link_worker).joinedload(Staff.cover),
                selectinload(Expert.consents),
                selectinload(Expert.contact_points),
            )
            .execution_options(populate_existing=True)
        )
        assert expert is not None
        return expert

    def contact_point(self, expert: Expert) -> ContactPoint | None:
        """Their contact point this reply came from (for an email that named a message
        we sent them, their email address, whichever address wrote)."""
        points = [p for p in expert.contact_points if p.channel is self.reply.channel]
        same = next((p for p in points if p.lookup_hash == self.reply.sender_hash), None)
        if same is None and self.inbound.expert_id == expert.id and len(points) == 1:
            return points[0]
        return same

    def assignee(self, expert: Expert) -> Staff:
        return responsible_staff(expert.link_worker, local_today(self.now, expert.time_zone))

    def people(self, expert: Expert) -> dict[str, str]:
        return {"name": expert.preferred_name, "worker": signature(expert, self.now)}

    def place(self) -> dict[str, str]:
        """Where they wrote to us, in their words: a text number, an address, or a chat."""
        places = {Channel.SMS: "number", Channel.EMAIL: "address"}
        return {"place": places.get(self.reply.channel, "chat")}

    def details(self, expert: Expert | None) -> bool:
        """Whether the channel this reply came by is safe for details (never for strangers)."""
        return details_safe(expert, self.reply.channel)

    def lines(self, expert: Expert | None) -> dict[str, Any]:
        """The support lines open now, the one for immediate danger apart; named only on
        a channel safe for details, otherwise by their neutral labels."""
        lines = open_now(self.rules.support_lines, self.now)
        danger = next((line for line in lines if line.for_immediate_danger), None)
        return {
            "lines": [line for line in lines if line is not danger],
            "danger": danger,
            "details": self.details(expert),
        }

    def say(self, expert: Expert | None, kind: Kind, text: str) -> None:
        """Answer on the channel they just used, if the gate allows; a refusal is recorded
        for staff and nothing is said."""
        out = Outbound(kind, self.reply.channel, text, immediate=True)
        verdict = check(expert, out, self.rules.blocked, self.now)
        if verdict.allowed:
            self.answer = text
            return
        self.answer = None
        expert_id = expert.id if expert is not None else None
        record_refusal(self.session, expert_id, out, verdict, self.now, reply_id=self.reply.id)

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.rules.renderer.render_named(f"replies/{name}.txt", context).body
