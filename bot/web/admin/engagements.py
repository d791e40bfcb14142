"""Engagement pages: set one up, publish it, invite people, and follow it through to
attendance, outcomes or a cancellation.

Every change goes through `bot.services.engagements.lifecycle` (and its neighbours), the same calls
the CLI makes, so the contact plan in the outbox is re-planned in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.engagements import lifecycle as service
from bot.services.engagements import plans as plan_service
from bot.services.engagements.attendance import record_attendance, record_costs_settled
from bot.services.engagements.cancellations import (
    cancellation_calls,
    cancellation_notified,
    phone_numbers,
    record_told,
)
from bot.services.engagements.lifecycle import DETAIL_FIELDS, EngagementError
from bot.services.staff.access import NotFound, engagement_in_scope
from bot.web.admin.pages import Errors, Page, Web
from scheduling.rules.plan import CANCELLATION_NOTICE, PlanError
from store.enums import EngagementStatus, InvitationAnswer
from store.models import Engagement, Invitation

TZ = "Europe/London"
REASON_MAX = 500
SUPPORT_NEEDS_MAX = 1000
DATE_FIELD = "starts_on-day"  # the first box of the date, where its error summary link goes

# The details an expert needs to know, in the order the form asks for them.
DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "purpose": (
        "Purpose",
        "What it is for, in a sentence or two. This is the first thing people read.",
    ),
    "objectives": ("Objectives", "What you hope to do together on the day."),
    "expected_outcomes": (
        "Expected outcomes",
        "What will come out of it, and what happens with what people say.",
    ),
    "venue_name": ("Venue name", "The name of the place, as people will see it on the door."),
    "venue_address": (
        "Venue address",
        "The full address with the postcode. Leave it empty if it only happens online.",
    ),
    "venue_accessibility": (
        "Accessibility",
        "Step-free access, accessible toilets, a quiet room, a hearing loop, parking.",
    ),
    "meeting_point": (
        "Meeting point",
        "Who will meet people, and where. For example: Sam will meet you at the front door.",
    ),
    "practitioners": (
        "Practitioners attending",
        "Who else will be there. Roles are enough, for example: two nurses from the ward.",
    ),
    "transport_and_expenses": (
        "Transport and expenses",
        "What is paid for: bus or train fares, taxis, childcare, a support worker, food.",
    ),
    "how_to_claim": (
        "How to claim",
        "How people get their money back, and how soon. Nobody should be out of pocket.",
    ),
    "paperwork": (
        "Paperwork",
        "Anything to read or sign beforehand, and when it will arrive. Write 'None' if "
        "there is nothing.",
    ),
}
ONLINE_LINK = ("Online link (optional)", "The full web address to join, starting with https://")
MISSING_LABELS = {
    **{name: label for name, (label, _) in DETAIL_LABELS.items()},
    "venue_address or online_link": "Venue address or online link",
}


def _sentence(text: str) -> str:
    """A service's refusal as a GOV.UK error message: capital first, no full stop."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


def _service_field(name: str | None) -> str | None:
    """Where on the form a service's complaint about ``name`` belongs."""
    return {"starts_at": DATE_FIELD, "ends_at": "end_time"}.get(name or "", name)


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    # --- the list, and creating ----------------------------------------------------------

    @router.get("/engagements", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        async with web.page(request) as page:
            found = await service.list_engagements(page.session, page.scope.engagements())
            counts = await service.answer_counts(page.session, [e.id for e in found])
            upcoming = [e for e in found if e.ends_at > page.now]
            past = sorted(
                (e for e in found if e.ends_at <= page.now),
                key=lambda e: e.starts_at,
                reverse=True,
            )
            return page.render(
                "engagements/index.html",
                upcoming=upcoming,
                past=past,
                counts=counts,
                now=page.now,
            )

    @router.get("/engagements/new", response_class=HTMLResponse)
    async def new(request: Request) -> Response:
        async with web.page(request) as page:
            return page.render(
                "engagements/form.html",
                kinds=await service.known_kinds(page.session),
                engagement=None,
                values={"kind": "meeting"},
                **_form_labels(),
            )

    @router.post("/engagements/new")
    async def create(request: Request) -> Response:
        async with web.page(request) as page:
            kinds = await service.known_kinds(page.session)
            form, errors = _read_engagement_form(page, kinds)
            if not errors:
                try:
                    engagement = await service.create_engagement(
                        page.session,
                        title=form["title"],
                        starts_at=form["starts_at"],
                        ends_at=form["ends_at"],
                        lead=page.viewer,
                        details=form["details"],
                        plan_overrides=None,
                        base_offsets=page.web.built.offsets,
                        time_zone=TZ,
                        now=page.now,
                        actor=page.actor,
                        kind=form["kind"],
                    )
                except (EngagementError, PlanError) as exc:
                    errors[_field_of(exc, "title")] = _sentence(str(exc))
            if errors:
                return page.render(
                    "engagements/form.html",
                    errors=errors,
                    kinds=kinds,
                    engagement=None,
                    **_form_labels(),
                )
            missing = engagement.missing_information()
            return page.redirect(
                f"/engagements/{engagement.id}",
                flash="Saved as a draft"
                + (". Fill in the missing details before publishing it" if missing else ""),
            )

    # --- one engagement -------------------------------------------------------------------

    @router.get("/engagements/{engagement_id}", response_class=HTMLResponse)
    async def show(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            return await _show(page, engagement)

    @router.post("/engagements/{engagement_id}/publish")
    async def publish(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            missing = engagement.missing_information()
            if engagement.status is EngagementStatus.DRAFT and missing:
                problems = [
                    {
                        "text": f"{MISSING_LABELS.get(name, name)} is missing",
                        "href": f"/engagements/{engagement.id}/edit#" + name.split(" or ")[0],
                    }
                    for name in missing
                ]
                return await _show(
                    page,
                    engagement,
                    problems=problems,
                    problems_title="Fill these in before publishing: people must know them "
                    "before they agree to come",
                )
            try:
                report = await service.publish(
                    page.session,
                    engagement,
                    page.web.built.offsets,
                    now=page.now,
                    actor=page.actor,
                )
            except (EngagementError, PlanError) as exc:
                return await _refused(page, engagement, exc)
            return page.redirect(
                f"/engagements/{engagement.id}",
                flash=f"Published. {_planned(report.added)}",
            )

    @router.get("/engagements/{engagement_id}/edit", response_class=HTMLResponse)
    async def edit(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if engagement.status is not EngagementStatus.DRAFT:
                return await _refused(page, engagement, _not_editable(engagement))
            return page.render(
                "engagements/form.html",
                kinds=await service.known_kinds(page.session),
                engagement=engagement,
                values=_engagement_values(engagement),
                **_form_labels(),
            )

    @router.post("/engagements/{engagement_id}/edit")
    async def update(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if engagement.status is not EngagementStatus.DRAFT:
                return await _refused(page, engagement, _not_editable(engagement))
            kinds = await service.known_kinds(page.session)
            form, errors = _read_engagement_form(page, sorted({*kinds, engagement.kind}))
            if not errors:
                try:
                    await service.update_draft(
                        page.session,
                        engagement,
                        title=form["title"],
                        kind=form["kind"],
                        starts_at=form["starts_at"],
                        ends_at=form["ends_at"],
                        details=form["details"],
                        base_offsets=page.web.built.offsets,
                        now=page.now,
                        actor=page.actor,
                    )
                except (EngagementError, PlanError) as exc:
                    errors[_field_of(exc, "title")] = _sentence(str(exc))
            if errors:
                return page.render(
                    "engagements/form.html",
                    errors=errors,
                    kinds=kinds,
                    engagement=engagement,
                    **_form_labels(),
                )
            return page.redirect(f"/engagements/{engagement.id}", flash="Changes saved")

    @router.get("/engagements/{engagement_id}/move", response_class=HTMLResponse)
    async def move_page(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if engagement.status is not EngagementStatus.PUBLISHED:
                return await _refused(page, engagement, _not_movable(engagement))
            return page.render(
                "engagements/move.html",
                engagement=engagement,
                values=_when_values(engagement),
            )

    @router.post("/engagements/{engagement_id}/move")
    async def move(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if engagement.status is not EngagementStatus.PUBLISHED:
                return await _refused(page, engagement, _not_movable(engagement))
            starts_at, ends_at, errors = _read_when(page)
            if not errors and starts_at is not None and ends_at is not None:
                try:
                    await service.move(
                        page.session,
                        engagement,
                        starts_at,
                        ends_at,
                        page.web.built.offsets,
                        now=page.now,
                        actor=page.actor,
                    )
                except (EngagementError, PlanError) as exc:
                    errors[_field_of(exc, DATE_FIELD)] = _sentence(str(exc))
            if errors:
                return page.render("engagements/move.html", errors=errors, engagement=engagement)
            return page.redirect(
                f"/engagements/{engagement.id}",
                flash="The date or time has changed. Messages not yet sent have moved with "
                "it, and anyone who already heard the old time will be told the new one",
            )

    # --- inviting, and answers given by phone ---------------------------------------------

    @router.get("/engagements/{engagement_id}/invite", response_class=HTMLResponse)
    async def invite_page(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if (refusal := _not_invitable(engagement)) is not None:
                return await _refused(page, engagement, refusal)
            return page.render(
                "engagements/invite.html",
                engagement=engagement,
                experts=await service.invitable_experts(
                    page.session, engagement, page.scope.experts()
                ),
                values={},
            )

    @router.post("/engagements/{engagement_id}/invite")
    async def invite(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if (refusal := _not_invitable(engagement)) is not None:
                return await _refused(page, engagement, refusal)
            experts = await service.invitable_experts(
                page.session, engagement, page.scope.experts()
            )
            by_id = {str(e.id): e for e in experts}
            chosen = page.fields("experts")
            errors: Errors = {}
            if not chosen:
                errors["experts"] = "Choose at least one person to invite"
            elif any(key not in by_id for key in chosen):
                errors["experts"] = "Choose people from the list"
            if errors:
                return page.render(
                    "engagements/invite.html",
                    errors=errors,
                    engagement=engagement,
                    experts=experts,
                    values={"experts": chosen},
                )
            people = [by_id[key] for key in dict.fromkeys(chosen)]
            report = await service.invite(
                page.session,
                engagement,
                people,
                page.web.built.offsets,
                now=page.now,
                actor=page.actor,
            )
            invited = "1 person" if len(people) == 1 else f"{len(people)} people"
            if engagement.status is EngagementStatus.PUBLISHED:
                after = _planned(report.added)
            else:
                after = "Their messages will be planned when it is published."
            return page.redirect(
                f"/engagements/{engagement.id}", flash=f"Invited {invited}. {after}"
            )

    @router.get("/engagements/{engagement_id}/answers/{invitation_id}", response_class=HTMLResponse)
    async def answer_page(request: Request, engagement_id: int, invitation_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            invitation = _own_invitation(page, engagement, invitation_id)
            page.viewed("engagement", engagement.id, expert_id=invitation.expert_id)
            return page.render(
                "engagements/answer.html",
                engagement=engagement,
                invitation=invitation,
                values={
                    "answer": ""
                    if invitation.answer is InvitationAnswer.PENDING
                    else invitation.answer.value,
                    "support_needs": invitation.support_needs or "",
                },
            )

    @router.post("/engagements/{engagement_id}/answers/{invitation_id}")
    async def answer(request: Request, engagement_id: int, invitation_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            invitation = _own_invitation(page, engagement, invitation_id)
            errors: Errors = {}
            chosen = page.field("answer")
            needs = page.field("support_needs")
            if chosen not in ("yes", "no", "maybe"):
                errors["answer"] = "Choose yes, no or maybe"
            if len(needs) > SUPPORT_NEEDS_MAX:
                errors["support_needs"] = (
                    f"Support needs must be {SUPPORT_NEEDS_MAX} characters or fewer"
                )
            if not errors:
                try:
                    await service.record_answer(
                        page.session,
                        engagement,
                        invitation.expert_id,
                        InvitationAnswer(chosen),
                        page.web.built.offsets,
                        support_needs=needs or None,
                        now=page.now,
                        actor=page.actor,
                    )
                except (EngagementError, PlanError) as exc:
                    errors["answer"] = _sentence(str(exc))
            if errors:
                return page.render(
                    "engagements/answer.html",
                    errors=errors,
                    engagement=engagement,
                    invitation=invitation,
                )
            said = {
                "yes": "yes. Their messages are planned",
                "no": "no. Nothing more will be sent to them about it, and they will not be chased",
                "maybe": "maybe. Their messages stay planned",
            }[chosen]
            return page.redirect(
                f"/engagements/{engagement.id}",
                # The banner rides in the signed (not encrypted) cookie: no names in it.
                flash=f"Recorded that {invitation.expert.ref or 'they'} said {said}",
            )

    # --- afterwards: attendance and outcomes ----------------------------------------------

    @router.get("/engagements/{engagement_id}/attendance", response_class=HTMLResponse)
    async def attendance_page(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            page.viewed("engagement", engagement.id, part="attendance")
            return page.render(
                "engagements/attendance.html",
                engagement=engagement,
                not_yet=_attendance_not_yet(engagement, page.now),
                values=_attendance_values(engagement),
            )

    @router.post("/engagements/{engagement_id}/attendance")
    async def attendance(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            not_yet = _attendance_not_yet(engagement, page.now)
            if not_yet:
                return await _refused(page, engagement, EngagementError(not_yet))
            errors: Errors = {}
            settled = set(page.fields("costs_settled"))
            follow_ups = 0
            for invitation in engagement.invitations:
                key = f"attended-{invitation.id}"
                choice = page.field(key)
                try:
                    if choice not in ("", "came", "missed"):
                        errors[key] = "Choose came or did not come"
                        continue
                    came = {"came": True, "missed": False}.get(choice)
                    if came is not None and came is not invitation.attended:
                        result = await record_attendance(
                            page.session,
                            engagement,
                            invitation.expert,
                            came,
                            now=page.now,
                            actor=page.actor,
                        )
                        follow_ups += result.followup is not None
                    await record_costs_settled(
                        page.session,
                        engagement,
                        invitation.expert,
                        str(invitation.id) in settled,
                        now=page.now,
                        actor=page.actor,
                    )
                except EngagementError as exc:
                    errors[key] = _sentence(str(exc))
            if errors:
                return page.render(
                    "engagements/attendance.html",
                    errors=errors,
                    engagement=engagement,
                    not_yet=None,
                )
            flash = "Attendance saved"
            if follow_ups:
                flash += (
                    ". Nothing is sent to anyone who missed it: their link worker has a task "
                    "with a warm note to send themselves"
                )
            return page.redirect(f"/engagements/{engagement.id}", flash=flash)

    @router.get("/engagements/{engagement_id}/outcomes", response_class=HTMLResponse)
    async def outcomes_page(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            return page.render(
                "engagements/outcomes.html",
                engagement=engagement,
                not_yet=_outcomes_not_yet(engagement, page.now),
                values={"outcomes": engagement.outcomes or ""},
                outcomes_max=service.OUTCOMES_MAX,
            )

    @router.post("/engagements/{engagement_id}/outcomes")
    async def outcomes(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            not_yet = _outcomes_not_yet(engagement, page.now)
            if not_yet:
                return await _refused(page, engagement, EngagementError(not_yet))
            try:
                report = await service.record_outcomes(
                    page.session,
                    engagement,
                    page.field("outcomes"),
                    now=page.now,
                    actor=page.actor,
                )
            except EngagementError as exc:
                return page.render(
                    "engagements/outcomes.html",
                    errors={"outcomes": _sentence(str(exc))},
                    engagement=engagement,
                    not_yet=None,
                    outcomes_max=service.OUTCOMES_MAX,
                )
            people = "1 person" if report.added == 1 else f"{report.added} people"
            return page.redirect(
                f"/engagements/{engagement.id}",
                flash=f'Outcomes saved. "You said, we did" is planned for {people} who came',
            )

    # --- cancelling, and the 24-hour rule -------------------------------------------------

    @router.get("/engagements/{engagement_id}/cancel", response_class=HTMLResponse)
    async def cancel_page(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if (refusal := _not_cancellable(engagement, page.now)) is not None:
                return await _refused(page, engagement, refusal)
            return page.render(
                "engagements/cancel.html",
                engagement=engagement,
                late=_late(engagement, page.now),
                values={},
            )

    @router.post("/engagements/{engagement_id}/cancel")
    async def cancel(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if (refusal := _not_cancellable(engagement, page.now)) is not None:
                return await _refused(page, engagement, refusal)
            reason = page.field("reason")
            errors: Errors = {}
            if not reason:
                errors["reason"] = "Say why it is cancelled"
            elif len(reason) > REASON_MAX:
                errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
            else:
                try:
                    await service.cancel(
                        page.session, engagement, reason, now=page.now, actor=page.actor
                    )
                except EngagementError as exc:
                    errors["reason"] = _sentence(str(exc))
            if errors:
                return page.render(
                    "engagements/cancel.html",
                    errors=errors,
                    engagement=engagement,
                    late=_late(engagement, page.now),
                )
            return page.redirect(
                f"/engagements/{engagement.id}",
                flash="Cancelled. Everyone who was coming is being told",
            )

    @router.post("/engagements/{engagement_id}/told/{invitation_id}")
    async def told(request: Request, engagement_id: int, invitation_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            invitation = _invitation(engagement, invitation_id)
            if engagement.status is not EngagementStatus.CANCELLED:
                return await _refused(
                    page,
                    engagement,
                    EngagementError("This engagement is not cancelled, so nobody needs telling"),
                )
            try:
                result = await record_told(
                    page.session,
                    engagement,
                    invitation.expert,
                    note=None,
                    now=page.now,
                    actor=page.actor,
                )
            except EngagementError as exc:
                return await _refused(page, engagement, exc)
            name = invitation.expert.preferred_name
            flash = f"Recorded that {name} was told by phone"
            if result.already_recorded:
                flash = f"{name} was already recorded as told"
            elif result.outcome.venue_task is not None:
                flash += (
                    ". Everyone who needed a call has been told: nobody needs to go to the venue"
                )
            return page.redirect(f"/engagements/{engagement.id}#calls", flash=flash)

    # --- this engagement's contact plan ---------------------------------------------------

    @router.post("/engagements/{engagement_id}/plan")
    async def plan(request: Request, engagement_id: int) -> Response:
        async with web.page(request) as page:
            engagement = await _engagement(page, engagement_id)
            if engagement.status in (EngagementStatus.CANCELLED, EngagementStatus.COMPLETED):
                return await _refused(
                    page,
                    engagement,
                    EngagementError(
                        "This engagement is over or cancelled, so its contact plan cannot change"
                    ),
                )
            changes, errors = read_plan_changes(page, engagement.plan_overrides or {})
            if not errors and changes:
                try:
                    await plan_service.set_for_engagement(
                        page.session,
                        engagement,
                        changes,
                        page.web.built.offsets,
                        now=page.now,
                        actor=page.actor,
                    )
                except PlanError as exc:
                    field = plan_service.setting_at_fault(exc) or next(iter(changes))
                    errors[field] = _sentence(plan_service.in_plain_words(exc))
            if errors:
                return await _show(page, engagement, errors=errors)
            return page.redirect(
                f"/engagements/{engagement.id}#plan",
                flash="Contact plan saved. Messages not yet sent have moved to match"
                if changes
                else "Nothing changed in the contact plan",
            )

    return router


# --- reading forms -------------------------------------------------------------------------


def _form_labels() -> dict[str, Any]:
    return {"detail_labels": DETAIL_LABELS, "online_link_label": ONLINE_LINK}


def _read_when(page: Page) -> tuple[datetime | None, datetime | None, Errors]:
    """The date and the start and end times, typed as London times, in UTC."""
    errors: Errors = {}
    day: date | None = None
    parts = [page.field(f"starts_on-{p}") for p in ("day", "month", "year")]
    if not all(parts):
        errors[DATE_FIELD] = "Enter the date, for example 17 3 2026"
    else:
        try:
            day = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            errors[DATE_FIELD] = "Enter a real date, for example 17 3 2026"
    times = {}
    for name, what in (("start_time", "start"), ("end_time", "end")):
        text = page.field(name)
        if not text:
            errors[name] = f"Enter the {what} time, for example 14:00"
            continue
        try:
            times[name] = plan_service.parse_clock(text)
        except PlanError:
            errors[name] = f"Enter the {what} time using the 24-hour clock, for example 14:00"
    moments: dict[str, datetime] = {}
    if day is not None:
        for name, at in times.items():
            try:
                moments[name] = service.local_moment(day, at, TZ)
            except EngagementError as exc:
                errors[name] = _sentence(str(exc))
    return moments.get("start_time"), moments.get("end_time"), errors


def _read_engagement_form(page: Page, kinds: list[str]) -> tuple[dict[str, Any], Errors]:
    """Everything the create and edit forms send, with every problem found at once."""
    title = page.field("title")
    kind = page.field("kind") or "meeting"
    details = {name: page.field(name) or None for name in DETAIL_FIELDS}
    starts_at, ends_at, errors = _read_when(page)
    if kind not in kinds:
        errors["kind"] = "Choose a kind from the list"
    checked: Mapping[str, str] = {}
    if starts_at is not None and ends_at is not None:
        checked = service.check_engagement(
            title=title, starts_at=starts_at, ends_at=ends_at, details=details, now=page.now
        )
    else:
        # The times could not be read: still check everything else, so all shows at once.
        checked = {
            k: v
            for k, v in service.check_engagement(
                title=title,
                starts_at=page.now,
                ends_at=page.now,
                details=details,
                now=page.now,
            ).items()
            if k not in ("starts_at", "ends_at")
        }
    for name, message in checked.items():
        field = _service_field(name) or name
        errors.setdefault(field, _sentence(message))
    form = {
        "title": title,
        "kind": kind,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "details": details,
    }
    return form, _ordered(errors)


_FORM_ORDER = ("title", "kind", DATE_FIELD, "start_time", "end_time", "online_link", *DETAIL_LABELS)


def _ordered(errors: Errors) -> Errors:
    """Errors in the order of the fields on the page, as the summary should list them."""
    rank = {name: i for i, name in enumerate(_FORM_ORDER)}
    return dict(sorted(errors.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _field_of(exc: Exception, default: str) -> str:
    return _service_field(getattr(exc, "field", None)) or default


def read_plan_changes(page: Page, current: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    """The plan settings a form changed (None: back to the layer below), checked as typed.

    Only what differs from ``current`` counts as a change, so the audit trail names what
    someone actually changed.
    """
    changes: dict[str, Any] = {}
    errors: Errors = {}
    for name in plan_service.SETTING_NAMES:
        text = page.field(name)
        value: Any = None
        if text and name == "send_at":
            try:
                value = plan_service.parse_clock(text).strftime("%H:%M")
            except PlanError:
                errors[name] = "Enter a time of day using the 24-hour clock, for example 10:00"
                continue
        elif text:
            if not text.isdigit() or int(text) > 365:
                errors[name] = "Enter a whole number of days, for example 7"
                continue
            value = int(text)
        if value != current.get(name):
            changes[name] = value
    return changes, errors


# --- loading and refusing ------------------------------------------------------------------


async def _engagement(page: Page, engagement_id: int) -> Engagement:
    """The engagement with everyone invited, or 404 when it is not theirs to see."""
    await engagement_in_scope(page.session, page.scope, engagement_id)
    return await service.get_engagement(page.session, engagement_id)


def _invitation(engagement: Engagement, invitation_id: int) -> Invitation:
    for invitation in engagement.invitations:
        if invitation.id == invitation_id:
            return invitation
    raise NotFound(f"invitation {invitation_id}")


def _own_invitation(page: Page, engagement: Engagement, invitation_id: int) -> Invitation:
    """An invitation whose expert this person may see: answers can hold health details."""
    invitation = _invitation(engagement, invitation_id)
    if not page.scope.sees_worker(invitation.expert.link_worker_id):
        raise NotFound(f"invitation {invitation_id}")
    return invitation


def _not_editable(engagement: Engagement) -> EngagementError:
    if engagement.status is EngagementStatus.PUBLISHED:
        return EngagementError(
            "This engagement is published, so its details can no longer be edited here. "
            "To move it, use 'Change the date or time'"
        )
    return EngagementError(
        f"This engagement is {_status_words(engagement)}, so it cannot be edited"
    )


def _not_movable(engagement: Engagement) -> EngagementError:
    if engagement.status is EngagementStatus.DRAFT:
        return EngagementError("This engagement is a draft: change its date or time by editing it")
    return EngagementError(f"This engagement is {_status_words(engagement)}, so it cannot be moved")


def _not_invitable(engagement: Engagement) -> EngagementError | None:
    if engagement.status in (EngagementStatus.CANCELLED, EngagementStatus.COMPLETED):
        return EngagementError(
            f"This engagement is {_status_words(engagement)}, so nobody more can be invited"
        )
    return None


def _not_cancellable(engagement: Engagement, now: datetime) -> EngagementError | None:
    if engagement.status is EngagementStatus.CANCELLED:
        return EngagementError("This engagement is already cancelled")
    if engagement.ends_at <= now or engagement.status is EngagementStatus.COMPLETED:
        return EngagementError("This engagement has already happened, so it cannot be cancelled")
    return None


def _attendance_not_yet(engagement: Engagement, now: datetime) -> str | None:
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement was cancelled, so nobody could come."
    if engagement.status is EngagementStatus.DRAFT:
        return "This engagement was never published, so nobody was expected."
    if engagement.starts_at > now:
        return "You can record who came once the engagement has started."
    return None


def _outcomes_not_yet(engagement: Engagement, now: datetime) -> str | None:
    if engagement.status is EngagementStatus.CANCELLED:
        return "This engagement was cancelled: there are no outcomes to share."
    if engagement.status is EngagementStatus.DRAFT:
        return "This engagement was never published: nobody took part."
    if engagement.ends_at > now:
        return "You can record the outcomes once the engagement has finished."
    return None


def _status_words(engagement: Engagement) -> str:
    return {
        EngagementStatus.DRAFT: "a draft",
        EngagementStatus.PUBLISHED: "published",
        EngagementStatus.CANCELLED: "cancelled",
        EngagementStatus.COMPLETED: "finished",
    }[engagement.status]


def _late(engagement: Engagement, now: datetime) -> bool:
    """Cancelled now, would people have less than the 24 hours' notice they are owed?"""
    return engagement.starts_at - now < CANCELLATION_NOTICE


def _planned(added: int) -> str:
    if added == 0:
        return "Nobody is invited yet, so no messages are planned."
    return f"{added} message{'s' if added != 1 else ''} planned."


def _when_values(engagement: Engagement) -> dict[str, str]:
    starts = engagement.starts_at.astimezone(ZoneInfo(TZ))
    ends = engagement.ends_at.astimezone(ZoneInfo(TZ))
    return {
        "starts_on-day": str(starts.day),
        "starts_on-month": str(starts.month),
        "starts_on-year": str(starts.year),
        "start_time": f"{starts:%H:%M}",
        "end_time": f"{ends:%H:%M}",
    }


def _engagement_values(engagement: Engagement) -> dict[str, str]:
    values = {name: getattr(engagement, name) or "" for name in DETAIL_FIELDS}
    values.update(title=engagement.title, kind=engagement.kind, **_when_values(engagement))
    return values


def _attendance_values(engagement: Engagement) -> dict[str, Any]:
    values: dict[str, Any] = {
        f"attended-{i.id}": "" if i.attended is None else ("came" if i.attended else "missed")
        for i in engagement.invitations
    }
    values["costs_settled"] = [str(i.id) for i in engagement.invitations if i.costs_settled]
    return values


# --- the engagement page -------------------------------------------------------------------


async def _refused(page: Page, engagement: Engagement, exc: Exception) -> Response:
    """The engagement page again, with why the action cannot happen, and nothing saved."""
    page.refused = True
    return await _show(
        page,
        engagement,
        problems=[{"text": _sentence(str(exc)), "href": "#actions"}],
    )


async def _show(
    page: Page,
    engagement: Engagement,
    *,
    errors: Errors | None = None,
    problems: list[dict[str, str]] | None = None,
    problems_title: str = "There is a problem",
) -> Response:
    """Everything about one engagement a person may see, and what they can do next."""
    db, scope = page.session, page.scope
    page.viewed("engagement", engagement.id)
    visible = [i for i in engagement.invitations if scope.sees_worker(i.expert.link_worker_id)]
    plan = await service.planned_messages(db, engagement.id, [i.expert_id for i in visible])
    calls = None
    numbers: dict[int, str] = {}
    if engagement.status is EngagementStatus.CANCELLED:
        calls = await cancellation_calls(db, engagement)
        numbers = await phone_numbers(
            db,
            [
                i.expert_id
                for i in calls.still_to_phone
                if scope.sees_worker(i.expert.link_worker_id)
            ],
        )
    effective = await plan_service.for_engagement(db, engagement, page.web.built.offsets)
    told_by_message = []
    if calls is not None:
        notified = await cancellation_notified(db, engagement.id)
        waiting = {i.id for i in calls.still_to_phone}
        told_by_message = [
            i
            for i in engagement.invitations
            if i.expert_id in notified and i.id not in waiting and i.told_verbally_at is None
        ]
    return page.render(
        "engagements/show.html",
        status=400 if problems else 200,
        errors=errors,
        values=page.form if errors else dict(engagement.plan_overrides or {}),
        engagement=engagement,
        now=page.now,
        missing=engagement.missing_information(),
        missing_labels=MISSING_LABELS,
        detail_labels=DETAIL_LABELS,
        visible_ids={i.id for i in visible},
        plan=plan,
        calls=calls,
        numbers=numbers,
        told_by_message=told_by_message,
        effective=effective,
        setting_names=plan_service.SETTING_NAMES,
        problems=problems,
        problems_title=problems_title,
        started=engagement.starts_at <= page.now,
        ended=engagement.ends_at <= page.now,
    )
