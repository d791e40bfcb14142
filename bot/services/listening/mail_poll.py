"""One pass over the replies mailbox: each new email is heard, marked handled only once
its reply is stored, then answered through the gate.

A message that fails to be stored (the database is busy, a bug) stays unseen and is read
again on the next pass; one bad message does not stop the others. The mailbox not
answering ends the pass, and the next pass (a minute later in the worker) tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.listening.inbound import Listening
from bot.services.listening.mail_intake import ANSWER_SUBJECT, Answer, hear_mail
from channels.base import ChannelError, OutgoingMessage, Receipt
from channels.mail_read import Mailbox, read_mail
from scheduling.clock import Clock
from scheduling.job_lock import job_turn
from scheduling.sending.gate import Gate
from store.enums import Channel

log = logging.getLogger(__name__)

MAX_PER_PASS = 200  # a full mailbox (the first start, a long outage) is read over several passes


@dataclass
class PollResult:
    heard: int = 0  # new replies stored
    repeats: int = 0  # already stored: a re-read or a duplicate delivery
    answered: int = 0
    failed: int = 0  # left unseen, to be read again next time

    def sentence(self) -> str:
        said = [f"{self.heard} new {'reply' if self.heard == 1 else 'replies'} heard"]
        if self.repeats:
            said.append(f"{self.repeats} already heard before")
        if self.answered:
            said.append(f"{self.answered} answered")
        if self.failed:
            said.append(f"{self.failed} could not be stored and will be read again next time")
        return "; ".join(said) + "."


class MailPoll:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        open_mailbox: Callable[[], AbstractAsyncContextManager[Mailbox]],
        rules: Callable[[], Listening],
        gate: Gate,
        clock: Clock,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.open_mailbox = open_mailbox
        self.rules = rules
        self.gate = gate
        self.clock = clock

    async def read_mailbox(self) -> None:
        """The worker's pass, every minute, by one worker at a time (the others skip this
        minute rather than fetch the same mail): a mailbox that does not answer is a
        warning in the log, and the next pass tries again."""
        async with job_turn(self.engine, "read_mailbox") as mine:
            if not mine:
                return
            try:
                result = await self.poll_once()
            except ChannelError as exc:
                log.warning("email replies were not read this time: %s", exc.detail)
                return
        if result.heard or result.failed:
            log.info("replies mailbox: %s", result.sentence())

    async def poll_once(self) -> PollResult:
        """Read what is new, once; raises ChannelError when the mailbox cannot be read."""
        result = PollResult()
        rules = self.rules()
        attachment_line = rules.renderer.render_named("replies/email_attachments.txt", {}).body
        async with self.open_mailbox() as box:
            for uid in (await box.new_messages())[:MAX_PER_PASS]:
                raw = await box.fetch(uid)
                if not raw.data:
                    continue  # gone meanwhile (another program removed it): nothing to hear
                mail = read_mail(raw)
                try:
                    heard = await hear_mail(
                        self.sessions,
                        mail,
                        rules,
                        now=self.clock.now(),
                        attachment_line=attachment_line,
                    )
                except Exception:
                    log.exception("an email reply could not be stored; it is read again next time")
                    result.failed += 1
                    continue
                if heard.heard.duplicate:
                    result.repeats += 1
                else:
                    result.heard += 1
                    # Before marking it read: if marking fails, the next pass finds a
                    # repeat, which is never answered, so nobody hears from us twice.
                    if heard.answer is not None and await self._send(heard.answer):
                        result.answered += 1
                await box.mark_handled(uid)
        return result

    async def _send(self, answer: Answer) -> bool:
        """The answer is already stored with the reply; a failure to send is logged, not
        retried, as for a text or a chat."""
        outgoing = OutgoingMessage(
            idempotency_key=f"reply-answer:{answer.reply_id}",
            channel=Channel.EMAIL,
            to=answer.to,
            body=answer.body,
            subject=ANSWER_SUBJECT,
            recipient_name=answer.recipient_name,
            sender_name=answer.sender_name,
            large_print=answer.large_print,
            metadata={"reply_token": answer.reply_token} if answer.reply_token else {},
        )
        sent = await self.gate.send(outgoing)
        if isinstance(sent, Receipt):
            return True
        log.warning("could not answer email reply %s (%s)", answer.reply_id, type(sent).__name__)
        return False
