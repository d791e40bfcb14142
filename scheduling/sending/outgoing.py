"""Turning a planned message and its route into exactly what a channel sends."""

from __future__ import annotations

from datetime import datetime

from channels.base import Button, CalendarEvent, OutgoingMessage
from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.given import given
from scheduling.rules.questions import answer_buttons
from scheduling.rules.router import Route
from scheduling.rules.windows import window_end
from scheduling.text.context import signature
from scheduling.text.rendering import Rendered
from store.enums import AccessNeed, Channel, Purpose
from store.models import Message

_CALENDAR_PURPOSES = {
    Purpose.PRE_BRIEF: "REQUEST",
    Purpose.TIME_CHANGED: "REQUEST",
    Purpose.CANCELLATION: "CANCEL",
}


def calendar_for(message: Message, details: bool, now: datetime) -> CalendarEvent | None:
    """A calendar entry with pre-briefs and changes, and its cancellation, by email.

    In discreet mode the ORGANIZER is only the first name the messages are signed with, and
    no address: the mail channel then puts its own neutral from address there. A worker's
    full name and work email would tell whoever opens the calendar who is writing, and why.
    """
    engagement, method = message.engagement, _CALENDAR_PURPOSES.get(message.purpose)
    if engagement is None or method is None:
        return None
    worker = signature(message.expert, now)
    # A cancel must carry a higher sequence than any request sent for the same entry.
    sequence = engagement.sequence + (1 if method == "CANCEL" else 0)
    return CalendarEvent(
        uid=f"linkline-eng{engagement.id}-exp{message.expert_id}",
        sequence=sequence,
        method="CANCEL" if method == "CANCEL" else "REQUEST",
        summary=engagement.title if details else f"Meeting with {worker}",
        starts_at=engagement.starts_at,
        ends_at=engagement.ends_at,
        location=(given(engagement.venue_name) or given(engagement.online_link))
        if details
        else None,
        organizer_name=message.expert.link_worker.name if details else worker,
        organizer_email=message.expert.link_worker.email if details else "",
    )


def statement_letter(message: Message, now: datetime) -> str | None:
    """A yearly statement goes by email with the statement itself as a PDF letter; its
    record (the lines and the total) was written when it was asked for."""
    record = given(message.personal_note)
    if message.purpose is not Purpose.STATEMENT or record is None:
        return None
    name = message.expert.preferred_name
    return f"Dear {name},\n\n{record}\n\nWith thanks,\n{signature(message.expert, now)}"


def build_outgoing(
    message: Message, route: Route, rendered: Rendered, details: bool, now: datetime
) -> OutgoingMessage:
    expert = message.expert
    needs = set(expert.access_needs or [])
    deliver_before = window_end(now, contact_rules(expert, route.channel, now))
    return OutgoingMessage(
        idempotency_key=message.idempotency_key,
        channel=route.channel,
        to=route.address,
        body=rendered.body,
        subject=rendered.subject,
        recipient_name=expert.preferred_name,
        sender_name=signature(expert, now),
        calendar=calendar_for(message, details, now) if route.channel is Channel.EMAIL else None,
        attach_letter=statement_letter(message, now) if route.channel is Channel.EMAIL else None,
        large_print=AccessNeed.LARGE_PRINT.value in needs,
        easy_read=AccessNeed.EASY_READ.value in needs,
        deliver_before=deliver_before,
        buttons=(
            tuple(Button(label, data) for label, data in answer_buttons(message))
            if route.channel is Channel.TELEGRAM
            else ()
        ),
    )
