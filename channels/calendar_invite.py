"""The .ics calendar entry sent with an email invitation or cancellation (iMIP, RFC 6047).

Kept apart from the mail adapter so it stays a pure function that can be tested alone.
What it leaves out matters as much as what it includes. There is no DESCRIPTION, because
a calendar can be seen on a shared device. The summary is already neutral in discreet
mode. Times are in UTC, so no VTIMEZONE is needed: icalendar does not add one by itself,
and a TZID without its VTIMEZONE is shown at the wrong time by some clients. RSVP is
FALSE, because we do not want calendar replies going back and forth about a person's
appointments.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

from channels.base import CalendarEvent

PRODID = "-//Linkline//Linkline invitations//EN"
_STATUS = {"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}


def build_ics(
    event: CalendarEvent, attendee_email: str, attendee_name: str, now: datetime
) -> bytes:
    """The iCalendar bytes for one event and one attendee. METHOD equals ``event.method``.

    A CANCEL keeps the UID and uses a higher SEQUENCE (the caller chooses both), so the
    person's calendar removes the entry it already holds and does not add a new one.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", event.method)
    calendar.add_component(_vevent(event, attendee_email, attendee_name, now))
    return calendar.to_ical()


def _vevent(event: CalendarEvent, attendee_email: str, attendee_name: str, now: datetime) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", _utc(now))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    # PRIVATE asks clients that share calendars with delegates to hide the details.
    vevent.add("class", "PRIVATE")
    vevent.add("status", _STATUS[event.method])
    if event.organizer_email:
        vevent.add("organizer", _address(event.organizer_email, event.organizer_name))
    attendee = _address(attendee_email, attendee_name)
    attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
    attendee.params["PARTSTAT"] = vText("NEEDS-ACTION")
    attendee.params["RSVP"] = vText("FALSE")
    vevent.add("attendee", attendee)
    return vevent


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    return address


def _utc(moment: datetime) -> datetime:
    """Converts to UTC. A naive time is refused, because its time zone is unknown and a
    guess could move the appointment by hours."""
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC)
