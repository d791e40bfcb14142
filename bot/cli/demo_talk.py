"""The demo's short conversation: Ana writes back after Jo's call, and Jo answers through
Linkline. The answer is previewed and queued exactly as the pages do it, then the real
dispatcher sends it through the gate on the next pass; a staff note is kept apart."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.delivery.written import Writer, send_written
from bot.services.experts.profile import find_expert, load_profile
from bot.services.inbox.conversation import Turn, add_note, conversation
from bot.services.staff.accounts import find_staff
from scheduling.rules.discreet_words import BlockedWords
from store.models import Reply

ANSWER = (
    "Glad you're feeling a bit better, Ana. I'll ring again on Friday afternoon, if that "
    "suits. No need to reply. Jo"
)
NOTE = "Rang Ana after her check-in. She would like a call on Friday afternoon."

Say = Callable[[datetime, str], None]


async def jo_answers(app: App, say: Say, actor: str) -> None:
    """Jo writes back to Ana's latest reply, through the gate, and keeps a note."""
    now = app.clock.now()
    async with app.sessions.begin() as session:
        found = await find_expert(session, "EX-01")
        jo = await find_staff(session, "jo@example.org")
        if found is None or jo is None:
            return
        ana = await load_profile(session, found.id)
        reply = await session.scalar(
            select(Reply).where(Reply.expert_id == ana.id).order_by(Reply.id.desc()).limit(1)
        )
        writer = Writer(
            app.channels, app.renderer, BlockedWords.load(), app.settings.default_time_zone
        )
        _, shown = await send_written(
            session,
            writer,
            ana,
            ANSWER,
            jo,
            now,
            token=secrets.token_hex(8),
            answering=reply,
            actor=actor,
        )
        await add_note(session, ana, jo, NOTE, now, actor=actor)
    for line in (
        f"   preview: {shown.why_channel}",
        f"   lock screen: {shown.lock_screen}",
        f"   length: {shown.sms_segments or 1} text(s); no blocked word; {shown.goes_when}",
    ):
        say(now, line)


async def ana_conversation(app: App) -> list[Turn]:
    """What passed between Ana and us, for the summary."""
    async with app.sessions() as session:
        ana = await find_expert(session, "EX-01")
        return [] if ana is None else await conversation(session, ana)
