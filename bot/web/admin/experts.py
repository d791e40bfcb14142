"""The experts pages: the list, adding someone, their profile and each change form, and
contact changes that wait for a second person.

Every page with an expert's id asks ``expert_in_scope`` first, so someone else's expert is
"not found". The work is done by the same services the command line uses; these handlers
read the form, call one service and say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from bot.services.experts import contact_changes as changes
from bot.services.experts.details import (
    CHANNEL_ADDRESS,
    DAY_KEYS,
    ExpertDetails,
    FormError,
    NewExpertForm,
    expert_from_form,
    form_window,
    plain_errors,
)
from bot.services.experts.pastoral import (
    LEVELS_HELP,
    PastoralSettingError,
    parse_level,
    set_bank_holidays,
    set_contact_level,
)
from bot.services.experts.profile import (
    ExpertError,
    add_window,
    confirm_safe_contact,
    create_expert,
    is_paused,
    link_worker_choices,
    list_experts,
    load_profile,
    pause_expert,
    record_consents,
    remove_window,
    resume_expert,
    safe_contact_due,
    set_channels,
    status_words,
    update_details,
)
from bot.services.experts.telegram_links import create_link
from bot.services.staff.access import NotFound, expert_in_scope
from bot.web.admin.pages import Page, Web
from scheduling.rules.pastoral import PastoralError
from scheduling.rules.windows import SafeWindow, WindowError
from store.enums import AccessNeed, Channel, PastoralLevel
from store.models import ContactChange, ContactWindow, Expert, Staff

CHANNEL_LABELS = {
    Channel.SMS: "Text message",
    Channel.TELEGRAM: "Telegram",
    Channel.EMAIL: "Email",
    Channel.LETTER: "Letter",
    Channel.PHONE: "Phone call",
}
# Telegram joins later, through the expert's own one-time link.
NEW_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.LETTER, Channel.PHONE)
ACCESS_LABELS = {AccessNeed.LARGE_PRINT: "Large print", AccessNeed.EASY_READ: "Easy read"}
LEVEL_LABELS = {
    PastoralLevel.OFF: "Only when there is work for them",
    PastoralLevel.MONTHLY: "About once a month",
    PastoralLevel.FORTNIGHTLY: "About every two weeks",
    PastoralLevel.WEEKLY: "About once a week",
}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_LABELS = dict(zip(DAY_KEYS, _DAY_NAMES, strict=True))
_LISTS = ("allow", "details", "fallback_channels", "access_needs", "window_days")
# The add form's fields from top to bottom, so the error summary reads in page order.
_NEW_ORDER = (
    "preferred_name", "ref", "link_worker", "time_zone", "discreet", "access_needs", "phone",
    "email", "postal_address", "preferred_channel", "fallback_channels",
    *(f"consent_{c.value}" for c in NEW_CHANNELS),
    "window_days", "window_from", "window_until", "pastoral_level",
)  # fmt: skip


@dataclass(frozen=True)
class ExpertRow:
    """One line of "Your experts"."""

    expert: Expert
    status: str
    check_again: bool
    shared: bool


@dataclass(frozen=True)
class SharedWith:
    """Other experts with the same number or email, as far as the viewer may know them."""

    visible: list[Expert]
    hidden: int


@dataclass(frozen=True)
class ChangeRow:
    """A change waiting for a second person, as staff read it."""

    change: ContactChange
    what: str
    old: str
    new: str
    shared: bool
    mine: bool


def _label(expert: Expert) -> str:
    """How staff pages name an expert: their reference and the name they use."""
    return f"{expert.ref}: {expert.preferred_name}" if expert.ref else expert.preferred_name


def _flash_name(expert: Expert) -> str:
    """A banner line travels in the session cookie, which is signed, not encrypted: it
    names an expert by reference, never by name."""
    return expert.ref or f"expert {expert.id}"


def _values(page: Page) -> dict[str, Any]:
    """The posted form, to fill the fields again (lists for the checkboxes)."""
    if page.form is None:
        return {}
    values: dict[str, Any] = {k: page.field(k) for k in page.form if k not in _LISTS}
    values.update({k: page.fields(k) for k in _LISTS})
    return values


def _channel(text: str) -> Channel | None:
    """A channel as our own forms send it ("sms"); None for anything else."""
    try:
        return Channel(text)
    except ValueError:
        return None


def _parse_date(page: Page, prefix: str) -> date | None:
    """A GOV.UK date input (prefix-day, -month, -year); None when it is not a real date."""
    parts = [page.field(f"{prefix}-{part}") for part in ("day", "month", "year")]
    if not all(p.isdigit() for p in parts):
        return None
    day, month, year = (int(p) for p in parts)
    try:
        return date(year if year > 99 else 2000 + year, month, day)
    except ValueError:
        return None


async def _sharing(page: Page, expert_ids: list[int]) -> dict[int, SharedWith]:
    """Shared contact flags; other experts are named only when the viewer may see them."""
    found = await changes.shared_contacts(page.session, expert_ids)
    others = {i for ids in found.values() for i in ids}
    known = {e.id: e for e in await list_experts(page.session, Expert.id.in_(others))}
    result = {}
    for expert_id, ids in found.items():
        visible = [known[i] for i in sorted(ids) if page.scope.sees_worker(known[i].link_worker_id)]
        result[expert_id] = SharedWith(visible, len(ids) - len(visible))
    return result


async def _change_rows(page: Page, rows: list[ContactChange], expert: Expert) -> list[ChangeRow]:
    cipher = page.web.built.cipher
    out = []
    for change in rows:
        shared = change.channel is Channel.SMS and bool(
            await changes.others_with(page.session, cipher, change.value, besides=expert.id)
        )
        out.append(
            ChangeRow(
                change=change,
                what=changes.KIND_WORDS.get(change.channel, change.channel.value),
                old=changes.shown(change.channel, changes.current_value(expert, change.channel))
                or "none",
                new=changes.shown(change.channel, change.value),
                shared=shared,
                mine=change.requested_by_id == page.viewer.id,
            )
        )
    return out


def _describe(window: ContactWindow) -> str:
    """A stored window in words ("Monday to Friday, 9am to 5pm")."""
    try:
        words = SafeWindow.parse(window.days, f"{window.start:%H:%M}-{window.end:%H:%M}").describe()
    except WindowError:
        words = f"{window.days}, {window.start:%H:%M} to {window.end:%H:%M}"
    if window.channel is not None:
        words += f" (for {CHANNEL_LABELS[window.channel].lower()} only)"
    return words


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    def common(**context: Any) -> dict[str, Any]:
        return {
            "channel_labels": CHANNEL_LABELS,
            "access_labels": ACCESS_LABELS,
            "level_labels": LEVEL_LABELS,
            "day_labels": DAY_LABELS,
            "channel_address": CHANNEL_ADDRESS,
            **context,
        }

    # The fixed paths come before /experts/{expert_id}, which would otherwise take them.

    @router.get("/experts", response_class=HTMLResponse)
    async def experts_list(request: Request) -> Response:
        async with web.page(request) as page:
            experts = await list_experts(page.session, page.scope.experts())
            shared = await changes.shared_contacts(page.session, [e.id for e in experts])
            waiting = await changes.changes_to_confirm(
                page.session, page.scope.experts(), page.viewer
            )
            page.viewed("expert", None, listed=len(experts))
            rows = [
                ExpertRow(
                    e, status_words(e, page.now), safe_contact_due(e, page.now), e.id in shared
                )
                for e in experts
            ]
            return page.render("experts/list.html", **common(rows=rows, waiting=len(waiting)))

    async def new_form(page: Page, errors: dict[str, str] | None = None) -> HTMLResponse:
        if errors:
            place = {name: i for i, name in enumerate(_NEW_ORDER)}
            errors = dict(sorted(errors.items(), key=lambda kv: place.get(kv[0], len(place))))
        workers = await link_worker_choices(page.session, page.scope)
        values = (
            _values(page)
            if page.form is not None
            else {
                "link_worker": str(page.viewer.id),
                "time_zone": "Europe/London",
                "discreet": "yes",
                "pastoral_level": PastoralLevel.OFF.value,
            }
        )
        return page.render(
            "experts/new.html",
            errors=errors,
            values=values,
            **common(workers=workers, channels=NEW_CHANNELS),
        )

    @router.get("/experts/new", response_class=HTMLResponse)
    async def new_page(request: Request) -> Response:
        async with web.page(request) as page:
            return await new_form(page)

    @router.post("/experts/new")
    async def new_post(request: Request) -> Response:
        async with web.page(request) as page:
            errors: dict[str, str] = {}
            workers = {str(s.id): s for s in await link_worker_choices(page.session, page.scope)}
            worker = workers.get(page.field("link_worker"))
            if worker is None:
                errors["link_worker"] = "Choose their link worker from the list"
            try:
                valid = expert_from_form(
                    NewExpertForm(
                        preferred_name=page.field("preferred_name"),
                        ref=page.field("ref"),
                        link_worker=worker.email if worker else page.viewer.email,
                        time_zone=page.field("time_zone"),
                        discreet=page.field("discreet") != "no",
                        access_needs=page.fields("access_needs"),
                        phone=page.field("phone"),
                        email=page.field("email"),
                        postal_address=page.field("postal_address"),
                        preferred_channel=page.field("preferred_channel"),
                        fallback_channels=page.fields("fallback_channels"),
                        allow=page.fields("allow"),
                        details=page.fields("details"),
                        window_days=page.fields("window_days"),
                        window_from=page.field("window_from"),
                        window_until=page.field("window_until"),
                        pastoral_level=page.field("pastoral_level"),
                        confirmed_on=page.today,
                        confirmed_by=page.viewer.email,
                    ),
                    NEW_CHANNELS,
                )
            except FormError as exc:
                return await new_form(page, {**exc.errors, **errors})
            if errors:
                return await new_form(page, errors)
            try:
                expert = await create_expert(
                    page.session,
                    page.web.built.cipher,
                    valid,
                    actor=page.actor,
                    now=page.now,
                    safe_contact_confirmed_by=page.viewer,
                )
            except ExpertError as exc:
                return await new_form(page, {exc.field or "preferred_name": exc.plain})
            shared = await changes.shared_contacts(page.session, [expert.id])
            note = (
                " Their phone number or email is also on another expert's record: please "
                "check it is right."
                if shared
                else ""
            )
            return page.redirect(
                f"/experts/{expert.id}", flash=f"Added {_flash_name(expert)}.{note}"
            )

    @router.get("/experts/changes", response_class=HTMLResponse)
    async def changes_page(request: Request) -> Response:
        async with web.page(request) as page:
            return await changes_list(page)

    async def changes_list(page: Page, errors: dict[str, str] | None = None) -> HTMLResponse:
        waiting = await changes.changes_to_confirm(page.session, page.scope.experts(), page.viewer)
        rows = []
        for change in waiting:
            rows.extend(await _change_rows(page, [change], change.expert))
        if rows:  # names and contact details were shown
            page.viewed("contact_change", None, listed=len(rows))
        return page.render(
            "experts/changes.html", errors=errors, values={}, **common(rows=rows, label=_label)
        )

    async def change_for(page: Page, change_id: int) -> ContactChange:
        change = await changes.change_in_scope(page.session, page.scope.experts(), change_id)
        if change is None:
            raise NotFound(f"contact change {change_id}")
        return change

    @router.post("/experts/changes/{change_id}/confirm")
    async def change_confirm(request: Request, change_id: int) -> Response:
        async with web.page(request) as page:
            change = await change_for(page, change_id)
            try:
                await changes.confirm_change(
                    page.session,
                    page.web.built.cipher,
                    change,
                    page.viewer,
                    now=page.now,
                    actor=page.actor,
                )
            except changes.ContactChangeError as exc:
                return await changes_list(page, {"changes": str(exc)})
            what = changes.KIND_WORDS.get(change.channel, "contact detail")
            return page.redirect(
                "/experts/changes",
                flash=f"Confirmed. {_flash_name(change.expert)}'s new {what} is used from now on.",
            )

    @router.post("/experts/changes/{change_id}/reject")
    async def change_reject(request: Request, change_id: int) -> Response:
        async with web.page(request) as page:
            change = await change_for(page, change_id)
            try:
                await changes.reject_change(
                    page.session, change, page.viewer, now=page.now, actor=page.actor
                )
            except changes.ContactChangeError as exc:
                return await changes_list(page, {"changes": str(exc)})
            what = changes.KIND_WORDS.get(change.channel, "contact detail")
            if change.requested_by_id == page.viewer.id:
                return page.redirect(
                    f"/experts/{change.expert_id}",
                    flash=f"Your request for a new {what} has been withdrawn. Nothing changed.",
                )
            return page.redirect(
                "/experts/changes",
                flash=f"Turned down. {_flash_name(change.expert)} keeps the {what} we had.",
            )

    # One expert: every page below is "not found" for someone who may not see them.

    async def expert_page(page: Page, expert_id: int) -> Expert:
        await expert_in_scope(page.session, page.scope, expert_id)
        return await load_profile(page.session, expert_id)

    @router.get("/experts/{expert_id}", response_class=HTMLResponse)
    async def show(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            page.viewed("expert", expert.id)
            shared = (await _sharing(page, [expert.id])).get(expert.id)
            waiting = await changes.waiting_changes(page.session, expert.id)
            confirmer = (
                await page.session.get(Staff, expert.safe_contact_confirmed_by_id)
                if expert.safe_contact_confirmed_by_id
                else None
            )
            points = {p.channel: p for p in expert.contact_points}
            consents = {c.channel: c for c in expert.consents}
            return page.render(
                "experts/show.html",
                **common(
                    expert=expert,
                    label=_label(expert),
                    state=status_words(expert, page.now),
                    check_again=safe_contact_due(expert, page.now),
                    confirmer=confirmer,
                    shared=shared,
                    waiting=await _change_rows(page, waiting, expert),
                    points=points,
                    consents=consents,
                    telegram_linked=Channel.TELEGRAM in points,
                    phone=changes.shown(Channel.SMS, changes.current_value(expert, Channel.SMS)),
                    address=changes.current_value(expert, Channel.LETTER),
                    email=changes.current_value(expert, Channel.EMAIL),
                    windows=[_describe(w) for w in expert.windows],
                    order=[CHANNEL_LABELS[c] for c in expert.channel_order()],
                    is_admin=page.scope.is_admin,
                    paused=is_paused(expert, page.now),
                ),
            )

    @router.post("/experts/{expert_id}/safe-contact-confirmed")
    async def safe_contact_confirmed(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            await confirm_safe_contact(
                page.session, expert, page.viewer, now=page.now, actor=page.actor
            )
            return page.redirect(
                f"/experts/{expert.id}",
                flash="Thank you. We have noted that you went through their safe-contact "
                "details with them today.",
            )

    # About them

    def details_values(expert: Expert) -> dict[str, Any]:
        return {
            "preferred_name": expert.preferred_name,
            "ref": expert.ref or "",
            "language": expert.language,
            "time_zone": expert.time_zone,
            "discreet": "yes" if expert.discreet else "no",
            "access_needs": list(expert.access_needs),
        }

    @router.get("/experts/{expert_id}/edit", response_class=HTMLResponse)
    async def edit_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            return page.render(
                "experts/edit.html",
                values=details_values(expert),
                **common(expert=expert, label=_label(expert)),
            )

    @router.post("/experts/{expert_id}/edit")
    async def edit_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            errors: dict[str, str] = {}
            try:
                details = ExpertDetails.model_validate(
                    {
                        "ref": page.field("ref"),
                        "preferred_name": page.field("preferred_name"),
                        "language": page.field("language") or "en",
                        "time_zone": page.field("time_zone") or "Europe/London",
                        "discreet": page.field("discreet") != "no",
                        "access_needs": page.fields("access_needs"),
                    }
                )
                await update_details(page.session, expert, details, now=page.now, actor=page.actor)
            except ValidationError as exc:
                errors = plain_errors(exc)
            except ExpertError as exc:
                errors = {exc.field or "preferred_name": exc.plain}
            if errors:
                return page.render(
                    "experts/edit.html",
                    errors=errors,
                    values=_values(page),
                    **common(expert=expert, label=_label(expert)),
                )
            return page.redirect(f"/experts/{expert.id}", flash="Their details have been saved.")

    # Consent, channel by channel

    @router.get("/experts/{expert_id}/consent", response_class=HTMLResponse)
    async def consent_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            allowed = [c for c in expert.consents if c.allowed]
            return page.render(
                "experts/consent.html",
                values={
                    "allow": [c.channel.value for c in allowed],
                    "details": [c.channel.value for c in allowed if c.details_safe],
                },
                **common(expert=expert, label=_label(expert)),
            )

    @router.post("/experts/{expert_id}/consent")
    async def consent_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            allow, details = page.fields("allow"), page.fields("details")
            errors: dict[str, str] = {}
            for text in {*allow, *details}:
                if _channel(text) is None:
                    errors["consent_sms"] = "Choose from the list only"
                elif text not in allow:
                    errors[f"consent_{text}"] = (
                        "Full details can only go a way they agree to: tick that they agree too"
                    )
            if not errors:
                try:
                    await record_consents(
                        page.session,
                        expert,
                        {Channel(c): c in details for c in allow},
                        confirmed_by=page.viewer,
                        confirmed_on=page.today,
                        now=page.now,
                        actor=page.actor,
                    )
                except ExpertError as exc:
                    errors[exc.field or "consent_sms"] = exc.plain
            if errors:
                return page.render(
                    "experts/consent.html",
                    errors=errors,
                    values=_values(page),
                    **common(expert=expert, label=_label(expert)),
                )
            return page.redirect(
                f"/experts/{expert.id}", flash="Their consent has been saved. Thank you."
            )

    # Which way first

    @router.get("/experts/{expert_id}/channels", response_class=HTMLResponse)
    async def channels_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            return page.render(
                "experts/channels.html",
                values={
                    "preferred_channel": expert.preferred_channel.value,
                    "fallback_channels": list(expert.fallback_channels),
                },
                **common(expert=expert, label=_label(expert)),
            )

    @router.post("/experts/{expert_id}/channels")
    async def channels_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            errors: dict[str, str] = {}
            preferred = _channel(page.field("preferred_channel"))
            if preferred is None:
                errors["preferred_channel"] = "Choose how they would most like to hear from us"
            fallbacks = [_channel(t) for t in page.fields("fallback_channels")]
            if any(c is None for c in fallbacks):
                errors["fallback_channels"] = "Choose other ways from the list only"
            if not errors:
                assert preferred is not None
                try:
                    await set_channels(
                        page.session,
                        expert,
                        preferred,
                        [c for c in fallbacks if c is not None],
                        now=page.now,
                        actor=page.actor,
                    )
                except ExpertError as exc:
                    errors[exc.field or "preferred_channel"] = exc.plain
            if errors:
                return page.render(
                    "experts/channels.html",
                    errors=errors,
                    values=_values(page),
                    **common(expert=expert, label=_label(expert)),
                )
            return page.redirect(
                f"/experts/{expert.id}", flash="The ways we contact them have been saved."
            )

    # Safe-contact windows

    def windows_page_for(
        page: Page, expert: Expert, errors: dict[str, str] | None = None
    ) -> HTMLResponse:
        return page.render(
            "experts/windows.html",
            errors=errors,
            values=_values(page) if errors else {},
            **common(
                expert=expert,
                label=_label(expert),
                windows=[(w.id, _describe(w)) for w in expert.windows],
            ),
        )

    @router.get("/experts/{expert_id}/windows", response_class=HTMLResponse)
    async def windows_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            return windows_page_for(page, await expert_page(page, expert_id))

    @router.post("/experts/{expert_id}/windows")
    async def windows_add(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            channel_text = page.field("window_channel")
            channel = _channel(channel_text) if channel_text else None
            if channel_text and channel is None:
                return windows_page_for(page, expert, {"window_channel": "Choose from the list"})
            try:
                window = form_window(
                    page.fields("window_days"),
                    page.field("window_from"),
                    page.field("window_until"),
                    channel,
                )
                await add_window(page.session, expert, window, now=page.now, actor=page.actor)
            except FormError as exc:
                return windows_page_for(page, expert, exc.errors)
            except ExpertError as exc:
                return windows_page_for(page, expert, {exc.field or "window_from": exc.plain})
            return page.redirect(
                f"/experts/{expert.id}/windows", flash="The safe time has been added."
            )

    @router.post("/experts/{expert_id}/windows/{window_id}/remove")
    async def windows_remove(request: Request, expert_id: int, window_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            try:
                await remove_window(page.session, expert, window_id, now=page.now, actor=page.actor)
            except ExpertError:
                raise NotFound(f"window {window_id}") from None
            return page.redirect(
                f"/experts/{expert.id}/windows", flash="The safe time has been removed."
            )

    # Keeping in touch

    @router.get("/experts/{expert_id}/pastoral", response_class=HTMLResponse)
    async def pastoral_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            return page.render(
                "experts/pastoral.html",
                values={
                    "level": expert.pastoral_level.value,
                    "bank_holidays": "yes" if expert.contact_on_bank_holidays else "no",
                },
                **common(expert=expert, label=_label(expert)),
            )

    @router.post("/experts/{expert_id}/pastoral")
    async def pastoral_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            errors: dict[str, str] = {}
            holidays = page.field("bank_holidays")
            if holidays not in ("yes", "no"):
                errors["bank_holidays"] = "Choose yes or no"
            withdrawn = 0
            try:
                level = parse_level(page.field("level"))
                if level is not expert.pastoral_level:
                    withdrawn = await set_contact_level(
                        page.session,
                        expert,
                        level,
                        min_days=page.web.built.settings.pastoral_min_days,
                        now=page.now,
                        actor=page.actor,
                    )
            except PastoralSettingError:
                errors["level"] = f"Choose how often to keep in touch ({LEVELS_HELP})"
            except PastoralError:
                errors["level"] = (
                    "That is more often than your organisation allows: choose a longer gap"
                )
            if not errors and (holidays == "yes") != expert.contact_on_bank_holidays:
                await set_bank_holidays(
                    page.session, expert, holidays == "yes", now=page.now, actor=page.actor
                )
            if errors:
                return page.render(
                    "experts/pastoral.html",
                    errors=errors,
                    values=_values(page),
                    **common(expert=expert, label=_label(expert)),
                )
            note = (
                f" {withdrawn} planned keeping-in-touch message{'s' if withdrawn != 1 else ''} "
                "will not be sent."
                if withdrawn
                else ""
            )
            return page.redirect(f"/experts/{expert.id}", flash=f"Keeping in touch saved.{note}")

    # Pause and resume

    def pause_page_for(
        page: Page, expert: Expert, errors: dict[str, str] | None = None
    ) -> HTMLResponse:
        return page.render(
            "experts/pause.html",
            errors=errors,
            values=_values(page) if errors else {},
            **common(
                expert=expert,
                label=_label(expert),
                state=status_words(expert, page.now),
                paused=is_paused(expert, page.now),
            ),
        )

    @router.get("/experts/{expert_id}/pause", response_class=HTMLResponse)
    async def pause_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            return pause_page_for(page, await expert_page(page, expert_id))

    @router.post("/experts/{expert_id}/pause")
    async def pause_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            action = page.field("action")
            try:
                if action == "resume":
                    await resume_expert(page.session, expert, now=page.now, actor=page.actor)
                    return page.redirect(
                        f"/experts/{expert.id}", flash="Contact has started again."
                    )
                kind = page.field("pause_kind")
                if kind not in ("date", "contact"):
                    return pause_page_for(
                        page, expert, {"pause_kind": "Choose how long to pause for"}
                    )
                until = None
                if kind == "date":
                    until = _parse_date(page, "pause_until")
                    if until is None:
                        return pause_page_for(
                            page,
                            expert,
                            {"pause_until": "Enter the day contact may start again, like 1 3 2026"},
                        )
                await pause_expert(
                    page.session, expert, until=until, now=page.now, actor=page.actor
                )
            except ExpertError as exc:
                return pause_page_for(page, expert, {exc.field or "pause_kind": exc.plain})
            return page.redirect(
                f"/experts/{expert.id}",
                flash=f"Contact is paused. They are now {status_words(expert, page.now)}.",
            )

    # Telegram

    @router.get("/experts/{expert_id}/telegram-link", response_class=HTMLResponse)
    async def telegram_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            return page.render(
                "experts/telegram.html",
                **common(
                    expert=expert,
                    label=_label(expert),
                    hours=page.web.built.settings.telegram_link_hours,
                    linked=any(p.channel is Channel.TELEGRAM for p in expert.contact_points),
                ),
            )

    @router.post("/experts/{expert_id}/telegram-link", response_class=HTMLResponse)
    async def telegram_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            settings = page.web.built.settings
            try:
                code = await create_link(
                    page.session,
                    expert,
                    page.viewer,
                    cipher=page.web.built.cipher,
                    now=page.now,
                    hours=settings.telegram_link_hours,
                    actor=page.actor,
                )
            except ExpertError as exc:
                return page.render(
                    "experts/telegram.html",
                    errors={"make_link": exc.plain},
                    **common(
                        expert=expert,
                        label=_label(expert),
                        hours=settings.telegram_link_hours,
                        linked=False,
                    ),
                )
            # Shown this once: only a keyed hash of the code is stored.
            return page.render(
                "experts/telegram_made.html",
                **common(
                    expert=expert,
                    label=_label(expert),
                    link=code.link(settings.telegram_bot_username),
                    start_command=code.start_command,
                    expires_at=code.expires_at,
                    hours=settings.telegram_link_hours,
                    consented=any(
                        c.channel is Channel.TELEGRAM and c.allowed for c in expert.consents
                    ),
                ),
            )

    # New contact details

    async def contact_page_for(
        page: Page, expert: Expert, errors: dict[str, str] | None = None
    ) -> HTMLResponse:
        waiting = await changes.waiting_changes(page.session, expert.id)
        return page.render(
            "experts/contact.html",
            errors=errors,
            values=_values(page) if errors else {},
            **common(
                expert=expert,
                label=_label(expert),
                phone=changes.shown(Channel.SMS, changes.current_value(expert, Channel.SMS)),
                address=changes.current_value(expert, Channel.LETTER),
                email=changes.current_value(expert, Channel.EMAIL),
                waiting=await _change_rows(page, waiting, expert),
            ),
        )

    @router.get("/experts/{expert_id}/contact", response_class=HTMLResponse)
    async def contact_page(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            page.viewed("expert", expert.id, page="contact")
            return await contact_page_for(page, expert)

    @router.post("/experts/{expert_id}/contact")
    async def contact_post(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_page(page, expert_id)
            cipher = page.web.built.cipher
            asked = {
                Channel.SMS: page.field("phone"),
                Channel.LETTER: page.field("postal_address"),
                Channel.EMAIL: page.field("email"),
            }
            if not any(asked.values()):
                return await contact_page_for(
                    page,
                    expert,
                    {"phone": "Enter a new phone number, postal address or email address"},
                )
            errors: dict[str, str] = {}
            said: list[str] = []
            for channel, text in asked.items():
                if not text:
                    continue
                try:
                    if channel is Channel.EMAIL:
                        shared = await changes.change_email(
                            page.session, cipher, expert, text, now=page.now, actor=page.actor
                        )
                        said.append("The new email address is in use now.")
                    else:
                        made = await changes.request_change(
                            page.session,
                            cipher,
                            expert,
                            page.viewer,
                            channel=channel,
                            text=text,
                            now=page.now,
                            actor=page.actor,
                        )
                        shared = made.shared_with
                        what = changes.KIND_WORDS[channel]
                        said.append(
                            f"The new {what} waits for a colleague to confirm it; until then "
                            f"we keep using the one we had."
                        )
                except changes.ContactChangeError as exc:
                    errors[exc.field or "phone"] = str(exc)
                    continue
                if shared:
                    said.append(
                        "Please check: another expert has this "
                        f"{'email address' if channel is Channel.EMAIL else 'phone number'} too."
                    )
            if errors:
                return await contact_page_for(page, expert, errors)
            return page.redirect(f"/experts/{expert.id}", flash="Thank you. " + " ".join(said))

    return router
