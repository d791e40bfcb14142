"""The delivery log for administrators: every message, newest first, filtered, as CSV, and
one message with all its attempts. Message text is shown only to the expert's own link
worker, even among administrators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.delivery.attention import need_of
from bot.services.delivery.find_expert import MOST_SHOWN, find_experts
from bot.services.delivery.log import (
    HIDDEN_TEXT,
    LogFilter,
    LogPage,
    attempt_lines,
    expert_label,
    log_line,
    log_page,
    texts_for,
)
from bot.services.delivery.log_csv import export_csv
from bot.services.delivery.log_filter import (
    FilterChoices,
    filter_choices,
    read_filter,
    read_page_number,
)
from bot.services.staff.access import NotFound
from bot.web.admin.pages import Page, Web
from store.errors import Refused
from store.models import Expert

FILTER_FIELDS = (
    "status", "channel", "staff", "expert", "person",
    "from-day", "from-month", "from-year", "to-day", "to-month", "to-year", "from", "to",
)  # fmt: skip


def _query(raw: Mapping[str, str], **extra: str | int) -> str:
    """The filter as a query string, without empty fields: for links that keep it."""
    kept: dict[str, Any] = {k: raw[k] for k in FILTER_FIELDS if raw.get(k)}
    kept.update(extra)
    return urlencode(kept)


def select_items(
    options: Sequence[tuple[str, str]], current: str, any_text: str
) -> list[dict[str, Any]]:
    """govukSelect items with the current choice selected; the first item is 'any'."""
    return [{"value": "", "text": any_text}] + [
        {"value": value, "text": text, "selected": value == current} for value, text in options
    ]


def pagination(raw: Mapping[str, str], result: LogPage) -> dict[str, Any] | None:
    """govukPagination: first, last and the pages either side of this one, with gaps."""
    if result.pages <= 1:
        return None

    def href(number: int) -> str:
        return "/admin/delivery?" + _query(raw, page=number)

    wanted = {1, result.pages, result.page - 1, result.page, result.page + 1}
    items: list[dict[str, Any]] = []
    previous = 0
    for number in sorted(n for n in wanted if 1 <= n <= result.pages):
        if previous and number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == result.page})
        previous = number
    links: dict[str, Any] = {"items": items}
    if result.page > 1:
        links["previous"] = {"href": href(result.page - 1)}
    if result.page < result.pages:
        links["next"] = {"href": href(result.page + 1)}
    return links


def _form(choices: FilterChoices, raw: Mapping[str, str]) -> dict[str, Any]:
    return {
        "status_items": select_items(choices.statuses, raw.get("status", ""), "Any status"),
        "channel_items": select_items(choices.channels, raw.get("channel", ""), "Any channel"),
        "staff_items": select_items(choices.staff, raw.get("staff", ""), "Any link worker"),
    }


async def _read(
    page: Page, raw: Mapping[str, str], tz: str
) -> tuple[LogFilter, int, dict[str, str]]:
    """The filter and page number, and every field that is wrong in either (both are read,
    so the form shows all its problems at once)."""
    errors: dict[str, str] = {}
    chosen, number = LogFilter(), 1
    try:
        chosen = await read_filter(page.session, raw, tz=tz)
    except Refused as refused:
        errors.update(refused.by_field("status"))
    try:
        number = read_page_number(raw.get("page", "").strip())
    except Refused as refused:
        errors.update(refused.by_field("page"))
    return chosen, number, errors


def routes(web: Web) -> APIRouter:
    router = APIRouter()
    tz = web.built.settings.default_time_zone

    @router.get("/admin/delivery", response_class=HTMLResponse)
    async def log(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            raw = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
            chosen, number, errors = await _read(page, raw, tz)
            form = _form(await filter_choices(page.session), raw)
            if errors:
                return page.render(
                    "admin/delivery.html", errors=errors, values=raw, result=None, **form
                )
            result = await log_page(page.session, chosen, number)
            expert = await page.session.get(Expert, chosen.expert_id) if chosen.expert_id else None
            return page.render(
                "admin/delivery.html",
                values=raw,
                result=result,
                person=expert_label(expert) if expert else "",
                pages=pagination(raw, result),
                csv_href="/admin/delivery.csv" + (f"?{query}" if (query := _query(raw)) else ""),
                filtered=bool(_query(raw)),
                **form,
            )

    @router.get("/admin/delivery.csv", response_class=Response)
    async def log_csv(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            raw = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
            chosen, _, errors = await _read(page, raw, tz)
            if errors:
                form = _form(await filter_choices(page.session), raw)
                return page.render(
                    "admin/delivery.html", errors=errors, values=raw, result=None, **form
                )
            export = await export_csv(
                page.session,
                chosen,
                viewer_id=page.viewer.id,
                actor=page.actor,
                now=page.now,
                tz=tz,
            )
            name = f"delivery-log-{page.today.isoformat()}.csv"
            return Response(
                export.text,
                media_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "Cache-Control": "no-store",
                },
            )

    @router.post("/admin/delivery/search", response_class=HTMLResponse)
    async def search(request: Request) -> Response:
        """Find the expert first, then show their messages by id: the name, number or
        address typed stays in the form's body, never in an address or a log."""
        async with web.page(request, admin=True) as page:
            typed = page.field("q")
            try:
                found = await find_experts(page.session, page.web.built.cipher, typed)
            except Refused as exc:
                return page.refuse(
                    exc,
                    "admin/delivery_search.html",
                    default_field="q",
                    values={"q": typed},
                    found=None,
                )
            if len(found) == 1:
                return page.redirect(f"/admin/delivery?person={found[0].expert_id}")
            return page.render(
                "admin/delivery_search.html", values={"q": typed}, found=found, most=MOST_SHOWN
            )

    @router.get("/admin/delivery/{message_id:int}", response_class=HTMLResponse)
    async def one(request: Request, message_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            found = await log_line(page.session, message_id)
            if found is None:
                raise NotFound(request.url.path)
            message, line = found
            text = (await texts_for(page.session, [message.id], page.viewer.id)).get(message.id)
            page.viewed("message", message.id)
            return page.render(
                "admin/delivery_message.html",
                title=f"Message {message.id}",
                message=message,
                line=line,
                own_expert=text is not None,
                subject=text[0] if text else None,
                body=text[1] if text else None,
                hidden_text=HIDDEN_TEXT,
                attempts=attempt_lines(message),
                needs_attention=need_of(message, page.now) is not None,
            )

    return router
