"""What an engagement may be and do: its details checked, and one answer to each "may
this happen now?".

The staff pages ask these to offer or refuse an action, and the services ask them again
before they change anything, so the CLI, the pages and the services cannot disagree. Each
``may_*`` gives the reason in words a person can act on, or None when it may happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scheduling.rules.given import is_given
from scheduling.rules.plan import PlanError, check_engagement_times
from scheduling.text.words import in_sentence
from store.enums import EngagementStatus
from store.errors import Refused
from store.models import Engagement
from store.models.engagements import ADVANCE_INFORMATION_FIELDS


class EngagementError(Refused):
    """A refusal in words a person can act on; ``field`` names the detail at fault, if one
    is, so a form can show the message next to it."""


def refuse(reason: str | None) -> None:
    """Raise a ``may_*`` answer that says no; do nothing for one that says yes."""
    if reason is not None:
        raise EngagementError(reason)


# --- may this happen now? -------------------------------------------------------------------


def may_edit(engagement: Engagement) -> str | None:
    """Only a draft's details change: once published, people were told them."""
    if engagement.status is EngagementStatus.DRAFT:
        return None
    if engagement.status is EngagementStatus.PUBLISHED:
        return (
            "This engagement is published, so its details can no longer be edited here. "
            "To move it, use 'Change the date or time'"
        )
    return f"This engagement is {in_sentence(engagement.status)}, so it cannot be edited"


def may_publish(engagement: Engagement) -> str | None:
    """Only a draft is published (its missing details are checked when it is)."""
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement was cancelled, so it cannot be published"
    if engagement.status is EngagementStatus.COMPLETED:
        return "This engagement has finished, so it cannot be published"
    if engagement.status is EngagementStatus.PUBLISHED:
        return "This engagement is already published"
    return None


def may_move(engagement: Engagement) -> str | None:
    """A draft or a published engagement may move; one that is over or cancelled may not."""
    if engagement.status in (EngagementStatus.CANCELLED, EngagementStatus.COMPLETED):
        return f"This engagement is {in_sentence(engagement.status)}, so it cannot be moved"
    return None


def may_invite(engagement: Engagement) -> str | None:
    if engagement.status in (EngagementStatus.CANCELLED, EngagementStatus.COMPLETED):
        return f"This engagement is {in_sentence(engagement.status)}, so nobody more can be invited"
    return None


def may_answer(engagement: Engagement) -> str | None:
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement was cancelled, so there is nothing to answer"
    return None


def may_cancel(engagement: Engagement, now: datetime) -> str | None:
    """Anything not yet over may be cancelled, a draft included (nobody is told of one)."""
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement is already cancelled"
    if engagement.ends_at <= now or engagement.status is EngagementStatus.COMPLETED:
        return "This engagement has already happened, so it cannot be cancelled"
    return None


def may_record_told(engagement: Engagement) -> str | None:
    """Being told in person or by phone is about a cancellation, so only after one."""
    if engagement.status is not EngagementStatus.CANCELLED:
        return (
            f"This engagement is not cancelled ({in_sentence(engagement.status)}), "
            "so nobody needs telling"
        )
    return None


def may_record_attendance(engagement: Engagement, now: datetime) -> str | None:
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement was cancelled, so nobody could come"
    if engagement.status is EngagementStatus.DRAFT:
        return "This engagement was never published, so nobody was expected"
    if engagement.starts_at > now:
        return (
            "This engagement has not started yet: you can record who came once the "
            "engagement has started"
        )
    return None


def may_record_outcomes(engagement: Engagement, now: datetime) -> str | None:
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement was cancelled: there are no outcomes to share"
    if engagement.status is EngagementStatus.DRAFT:
        return "This engagement was never published: nobody took part"
    if engagement.ends_at > now:
        return (
            "This engagement has not finished yet: you can record the outcomes once it has finished"
        )
    return None


def may_change_plan(engagement: Engagement) -> str | None:
    """An engagement's own contact plan changes only while its messages can still move."""
    if engagement.status in (EngagementStatus.CANCELLED, EngagementStatus.COMPLETED):
        return "This engagement is over or cancelled, so its contact plan cannot change"
    return None


# --- its details ------------------------------------------------------------------------------

# Every detail a form or the CLI may set, besides the title and the times: the advance
# information, plus where it happens (an address, an online link, or both).
DETAIL_FIELDS = (*ADVANCE_INFORMATION_FIELDS, "venue_address", "online_link")
TITLE_MAX = 200
_SHORT_FIELDS = {"venue_name": 200, "online_link": 500}  # the columns' own lengths
DETAIL_MAX = 2000  # a long free-text detail is kinder split up, and fits every message


def missing_information(engagement: Engagement) -> list[str]:
    """Advance-information fields not yet given; publishing waits until there are none.

    Blank, only spaces, or the word "None" count as missing: an expert reading "Travel
    and expenses: None" learns nothing, or worse, that nothing is paid.
    """
    missing = [f for f in ADVANCE_INFORMATION_FIELDS if not is_given(getattr(engagement, f))]
    if not (is_given(engagement.venue_address) or is_given(engagement.online_link)):
        missing.append("venue_address or online_link")
    return missing


def check_online_link(link: str | None) -> str | None:
    """Why an online link is refused, or None: only https links, so nobody is sent to a
    page that can be read or changed on the way."""
    text = (link or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() != "https" or not parts.netloc or " " in text:
        return "the online link must be a full web address starting with https://"
    return None


def check_engagement(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    details: Mapping[str, str | None],
    now: datetime,
    time_zone: str,
) -> dict[str, str]:
    """Every problem with an engagement's title, times and details, by field (empty: fine).

    Shared by creating and editing, so a form can show them all at once and the CLI the
    first one; nothing is saved while any remain.
    """
    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = "an engagement needs a title"
    elif len(title.strip()) > TITLE_MAX:
        problems["title"] = f"the title is too long (at most {TITLE_MAX} characters)"
    if ends_at <= starts_at:
        problems["ends_at"] = "the engagement must end after it starts: check the end time"
    else:
        try:
            check_engagement_times(starts_at, ends_at, time_zone)
        except PlanError as exc:
            problems["ends_at"] = str(exc)
    if starts_at <= now:
        problems["starts_at"] = "the engagement starts in the past: check the date"
    for name, value in details.items():
        text = (value or "").strip() if isinstance(value, str) else ""
        limit = _SHORT_FIELDS.get(name, DETAIL_MAX)
        if len(text) > limit:
            problems[name] = f"this is too long: keep it under {limit} characters"
    link_problem = check_online_link(details.get("online_link"))
    if link_problem and "online_link" not in problems:
        problems["online_link"] = link_problem
    return problems


def refuse_problems(problems: Mapping[str, str]) -> None:
    """Raise the first problem `check_engagement` found, naming its field."""
    for name, message in problems.items():
        raise EngagementError(message, field=name)


def local_moment(day: date, at: time, time_zone: str) -> datetime:
    """A date and clock time as people in ``time_zone`` read them, in UTC; refuses a time
    the clocks skip, and one they pass twice (which of the two would be a guess)."""
    zone = ZoneInfo(time_zone)
    wall = datetime.combine(day, at)
    first, second = wall.replace(tzinfo=zone), wall.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise EngagementError(f"{at:%H:%M} does not exist on that day: the clocks go forward")
    if first.utcoffset() != second.utcoffset():
        raise EngagementError(
            f"{at:%H:%M} happens twice on that day, when the clocks go back: choose another time"
        )
    return first.astimezone(UTC)
