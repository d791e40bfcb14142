"""Cover: who looks after whose experts while someone is away.

Everyone sets their own; an administrator can set anyone's. While a link worker is away,
their named cover sees their experts' replies and tasks (``access.Scope``), and new work
goes to the cover (``scheduling.rules.cover.responsible_staff``).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.staff.access import NotFound
from bot.services.staff.accounts import list_staff, set_cover
from bot.web.admin.edges import MAX_ID
from bot.web.admin.pages import Errors, Page, Web
from store.errors import Refused
from store.models import Staff

_PARTS = ("day", "month", "year")
_NAMES = {"away_from": "first day away", "away_until": "last day away"}


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/cover", response_class=HTMLResponse)
    async def overview(request: Request) -> Response:
        async with web.page(request) as page:
            return await _cover_page(page, page.viewer)

    @router.post("/cover")
    async def set_mine(request: Request) -> Response:
        async with web.page(request) as page:
            return await _save(page, page.viewer)

    @router.get("/cover/{staff_id:int}", response_class=HTMLResponse)
    async def someone(request: Request, staff_id: int) -> Response:
        async with web.page(request) as page:
            return await _cover_page(page, await _target(page, staff_id))

    @router.post("/cover/{staff_id:int}")
    async def set_someone(request: Request, staff_id: int) -> Response:
        async with web.page(request) as page:
            return await _save(page, await _target(page, staff_id))

    return router


async def _target(page: Page, staff_id: int) -> Staff:
    """Whose cover this page sets: an administrator may set anyone's, others only their own."""
    if staff_id > MAX_ID or (staff_id != page.viewer.id and not page.is_admin):
        raise NotFound(f"staff {staff_id}")
    staff = await page.session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"staff {staff_id}")
    return staff


async def _cover_page(
    page: Page, target: Staff, *, errors: Errors | None = None, values: dict[str, str] | None = None
) -> Response:
    team = await list_staff(page.session)
    by_id = {s.id: s for s in team}
    today = page.today
    away = sorted(
        (s for s in team if s.active and s.away_from and _last_day(s) >= today),
        key=lambda s: (s.away_from or today, s.name),
    )
    if values is None:
        values = {"cover": str(target.cover_id or "")}
        for name, day in (("away_from", target.away_from), ("away_until", target.away_until)):
            if day is not None and _last_day(target) >= today:
                values |= {f"{name}-day": str(day.day), f"{name}-month": str(day.month)}
                values |= {f"{name}-year": str(day.year)}
    return page.render(
        "cover/cover.html",
        errors=errors,
        values=values,
        target=target,
        own=target.id == page.viewer.id,
        action="/cover" if target.id == page.viewer.id else f"/cover/{target.id}",
        cover=by_id.get(target.cover_id) if target.cover_id else None,
        arrangement_over=target.away_from is not None and _last_day(target) < today,
        colleagues=[s for s in team if s.active and s.id != target.id],
        away=away,
        by_id=by_id,
        covering_now=[s for s in away if s.cover_id == page.viewer.id and s.is_away(today)],
        everyone=[s for s in team if s.active] if page.is_admin else [],
        today=today,
    )


async def _save(page: Page, target: Staff) -> Response:
    """Check the form, then ``set_cover``; errors show next to their fields, nothing saved."""
    back = "/cover" if target.id == page.viewer.id else f"/cover/{target.id}"
    # Banners travel in the session cookie, which is signed, not encrypted: no names.
    whose = "your" if target.id == page.viewer.id else "their"
    if page.field("clear"):
        await set_cover(page.session, target, None, None, None, now=page.now, actor=page.actor)
        return page.redirect(back, flash=f"Cleared {whose} cover and time away.")
    errors: Errors = {}
    cover = await _chosen_cover(page, target, errors)
    first = _date_field(page, "away_from", errors)
    last = _date_field(page, "away_until", errors)
    if "away_from" not in errors and "away_until" not in errors:
        if first is None and last is not None:
            errors["away_from"] = "Enter the first day away, or leave both dates empty"
        elif last is None and first is not None:
            errors["away_until"] = "Enter the last day away, or leave both dates empty"
        elif first is not None and last is not None:
            if last < first:
                errors["away_until"] = "The last day away must be the same as or after the first"
            elif last < page.today:
                errors["away_until"] = "The last day away must be today or later"
            elif cover is not None and _overlaps(cover, first, last):
                errors["cover"] = (
                    f"{cover.name} is also away then. Choose someone who will be at work"
                )
    if not errors:
        try:
            await set_cover(
                page.session, target, cover, first, last, now=page.now, actor=page.actor
            )
        except Refused as exc:
            errors.update(page.refusal(exc, "cover"))
    if errors:
        return await _cover_page(page, target, errors=errors, values=dict(_posted(page)))
    assert cover is not None
    when = (
        f" from {first:%-d %B %Y} to {last:%-d %B %Y}"
        if first and last
        else ", with no time away set yet"
    )
    return page.redirect(back, flash=f"Saved. The cover for {whose} work is set{when}.")


async def _chosen_cover(page: Page, target: Staff, errors: Errors) -> Staff | None:
    chosen = page.field("cover")
    if not chosen:
        errors["cover"] = "Choose who will cover"
        return None
    staff = (
        await page.session.get(Staff, int(chosen))
        if chosen.isdigit() and int(chosen) <= MAX_ID
        else None
    )
    if staff is None or not staff.active:
        errors["cover"] = "Choose a colleague from the list"
        return None
    if staff.id == target.id:
        errors["cover"] = "Choose someone else: a person cannot cover for themselves"
        return None
    return staff


def _date_field(page: Page, name: str, errors: Errors) -> date | None:
    """A GOV.UK date input (day, month, year) as a date; None when left empty."""
    parts = [page.field(f"{name}-{part}") for part in _PARTS]
    if not any(parts):
        return None
    label = _NAMES[name]
    if not all(parts):
        missing = " and ".join(p for p, v in zip(_PARTS, parts, strict=True) if not v)
        errors[name] = f"The {label} must include a {missing}"
        return None
    try:
        day, month, year = (int(p) for p in parts)
        if not 2000 <= year <= 2100:
            raise ValueError(year)
        return date(year, month, day)
    except (ValueError, OverflowError):  # 20 digits overflow rather than fail
        errors[name] = f"The {label} must be a real date, for example 2 3 2026"
        return None


def _posted(page: Page) -> list[tuple[str, str]]:
    names = ["cover", *(f"{n}-{p}" for n in _NAMES for p in _PARTS)]
    return [(n, page.field(n)) for n in names]


def _overlaps(staff: Staff, first: date, last: date) -> bool:
    """Whether their own time away falls within these days (then they cannot cover)."""
    return staff.away_from is not None and staff.away_from <= last and _last_day(staff) >= first


def _last_day(staff: Staff) -> date:
    return staff.away_until or staff.away_from or date.min
