"""The .ics calendar entry sent with an email invitation or cancellation (iMIP, RFC 6047).

Kept apart from the mail adapter so it stays a pure function that can be tested alone.
What it leaves out matters as much as what it includes. There is no DESCRIPTION, because
a calendar can be seen on a shared device. The summary is already neutral in discreet
mode. Times are in UTC, so no VTIMEZONE is needed (a TZID without its VTIMEZONE is shown
at the wrong time by some clients). RSVP is FALSE, because we do not want calendar
replies going back and forth about a person's appointments.

The file is one fixed shape with a handful of values, so it is written directly (RFC 5545
escaping, quoting and folding), the same lines icalendar writes, in a fraction of its
time: every invitation in a batch is made here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from channels.base import CalendarEvent

PRODID = "-//Linkline//Linkline invitations//EN"
_STATUS = {"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}
_HEAD = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\n"
_PARAM_ESCAPES = re.compile(r'\^|\r\n|\r|\n|"')  # RFC 6868
_PARAM_ESCAPED = {"^": "^^", "\r\n": "^n", "\r": "^n", "\n": "^n", '"': "^'"}
_SEPARATORS = re.compile("[,;:\u2019]")
_FOLD_AT = 75  # octets, RFC 5545 3.1


def build_ics(
    event: CalendarEvent, attendee_email: str, attendee_name: str, now: datetime
) -> bytes:
    """The iCalendar bytes for one event and one attendee. METHOD equals ``event.method``.

    A CANCEL keeps the UID and uses a higher SEQUENCE (the caller chooses both), so the
    person's calendar removes the entry it already holds and does not add a new one.
    """
    stamp, starts, ends = _utc(now), _utc(event.starts_at), _utc(event.ends_at)
    status = _STATUS[event.method]
    lines = [
        f"METHOD:{_text(event.method)}",
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(event.summary)}",
        f"DTSTART:{starts}",
        f"DTEND:{ends}",
        f"DTSTAMP:{stamp}",
        f"UID:{_text(event.uid)}",
        f"SEQUENCE:{int(event.sequence)}",
        # Parameters in name order, as icalendar writes them.
        f"ATTENDEE{_cn(attendee_name)};PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=FALSE"
        f":mailto:{attendee_email}",
        # PRIVATE asks clients that share calendars with delegates to hide the details.
        "CLASS:PRIVATE",
    ]
    if event.location:
        lines.append(f"LOCATION:{_text(event.location)}")
    if event.organizer_email:
        lines.append(f"ORGANIZER{_cn(event.organizer_name)}:mailto:{event.organizer_email}")
    lines += [f"STATUS:{status}", "END:VEVENT", "END:VCALENDAR", ""]
    return (_HEAD + "\r\n".join(_fold(line) for line in lines)).encode()


def _text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, any line break as ``\\n``."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def _cn(name: str) -> str:
    """The ``;CN=`` parameter for a name (none for no name): RFC 6868 escapes, and quotes
    around a name with a space, an apostrophe or a separator in it."""
    if not name:
        return ""
    value = _PARAM_ESCAPES.sub(lambda m: _PARAM_ESCAPED[m.group(0)], name)
    quoted = " " in name or "'" in name or _SEPARATORS.search(value)
    return f';CN="{value}"' if quoted else f";CN={value}"


def _fold(line: str) -> str:
    """Lines longer than 75 octets go on with CRLF and a space, never splitting a UTF-8
    character, nor a backslash or caret escape from what it escapes."""
    if line.isascii():  # one octet a character: cut by position
        if len(line) < _FOLD_AT:
            return line
        cuts: list[str] = []
        start = 0
        while len(line) - start >= _FOLD_AT:
            end = start + _FOLD_AT - 1
            if line[end - 1] in "\\^":  # an escape stays with what it escapes
                end -= 1
            cuts.append(line[start:end])
            start = end
        cuts.append(line[start:])
        return "\r\n ".join(cuts)
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= _FOLD_AT:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                pieces.append("".join(current))
                current, size = [carried], 1
            else:
                pieces.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _utc(moment: datetime) -> str:
    """The UTC form (``20260602T083000Z``). A naive time is refused, because its time zone
    is unknown and a guess could move the appointment by hours."""
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"
