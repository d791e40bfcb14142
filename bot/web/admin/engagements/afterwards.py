"""Afterwards: who came (and whose costs are paid back), and the outcomes that become
"you said, we did"."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.engagements import lifecycle as service
from bot.services.engagements.attendance import attendance_field, record_attendance_sheet
from bot.services.engagements.rules import may_record_attendance, may_record_outcomes
from bot.web.admin.areas import StaffWeb
from bot.web.admin.engagements.common import (
    WORDS,
    load_engagement,
    load_engagement_to_change,
    refused,
)
from bot.web.admin.engagements.forms import (
    attendance_values,
    read_attendance,
    refused_fields,
    sentence,
)
from bot.web.admin.pages import Page
from scheduling.people import ledger
from store.errors import Refused
from store.models import Engagement

router = APIRouter()


def _not_yet(reason: str | None) -> str | None:
    """A ``may_*`` refusal as the page's own paragraph says it."""
    return None if reason is None else sentence(reason) + "."


@router.get("/engagements/{engagement_id}/attendance", response_class=HTMLResponse)
async def attendance_page(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        page.viewed("engagement", engagement.id, part="attendance")
        return page.render(
            "engagements/attendance.html",
            engagement=engagement,
            not_yet=_not_yet(may_record_attendance(engagement, page.now)),
            values=attendance_values(engagement),
            payments=await _payments(page, engagement),
            **WORDS,
        )


@router.post("/engagements/{engagement_id}/attendance")
async def attendance(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := may_record_attendance(engagement, page.now)) is not None:
            return await refused(page, engagement, refusal)
        came, errors = read_attendance(page, engagement)
        follow_ups = 0
        try:
            sheet = await record_attendance_sheet(
                page.session, engagement, came, now=page.now, actor=page.actor
            )
            follow_ups = sheet.follow_ups
        except Refused as exc:
            errors.update(refused_fields(exc, "attendance"))
        if errors:
            rows = [attendance_field(i.id) for i in engagement.invitations]
            return page.render(
                "engagements/attendance.html",
                errors={key: errors[key] for key in sorted(errors, key=_row_order(rows))},
                engagement=engagement,
                not_yet=None,
                payments=await _payments(page, engagement),
                **WORDS,
            )
        flash = "Attendance saved"
        if follow_ups:
            flash += (
                ". Nothing is sent to anyone who missed it: their link worker has a task "
                "with a warm note to send themselves"
            )
        return page.redirect(f"/engagements/{engagement.id}", flash=flash)


async def _payments(page: Page, engagement: Engagement) -> dict[int, str]:
    """Where each person's fee and costs stand, read from the ledger (the one place they
    are kept and paid), for the sheet to show beside their name."""
    return ledger.by_person(await ledger.lines_for(page.session, engagement_id=engagement.id))


def _row_order(rows: list[str]) -> Callable[[str], int]:
    """Sorts a sheet's errors in the order of its rows, as the summary should list them."""
    rank = {key: i for i, key in enumerate(rows)}
    return lambda key: rank.get(key, len(rank))


@router.get("/engagements/{engagement_id}/outcomes", response_class=HTMLResponse)
async def outcomes_page(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        return page.render(
            "engagements/outcomes.html",
            engagement=engagement,
            not_yet=_not_yet(may_record_outcomes(engagement, page.now)),
            values={"outcomes": engagement.outcomes or ""},
            outcomes_max=service.OUTCOMES_MAX,
        )


@router.post("/engagements/{engagement_id}/outcomes")
async def outcomes(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := may_record_outcomes(engagement, page.now)) is not None:
            return await refused(page, engagement, refusal)
        try:
            report = await service.record_outcomes(
                page.session,
                engagement,
                page.field("outcomes"),
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            return page.render(
                "engagements/outcomes.html",
                errors=refused_fields(exc, "outcomes"),
                engagement=engagement,
                not_yet=None,
                outcomes_max=service.OUTCOMES_MAX,
            )
        people = "1 person" if report.added == 1 else f"{report.added} people"
        return page.redirect(
            f"/engagements/{engagement.id}",
            flash=f'Outcomes saved. "You said, we did" is planned for {people} who came',
        )
