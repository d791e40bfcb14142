"""An expert's own contact agreement and leaving, on their page: the private "not safe
now" word they chose with their link worker, and withdrawing them with care (a page that
asks to confirm first). The services decide; these handlers read the form and say what
happened."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.experts.agreement import clear_safe_word, set_safe_word
from bot.services.experts.leaving import responsible_today, withdraw_expert
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.shared import common, expert_page, label, posted
from bot.web.admin.pages import Page
from scheduling.maintenance import retention_in_force
from scheduling.rules.distress import DistressWords
from store.enums import ExpertStatus
from store.errors import Refused
from store.models import Expert

router = APIRouter()


def _word_page(page: Page, expert: Expert, errors: dict[str, str] | None = None) -> Response:
    return page.render(
        "experts/not_safe_word.html",
        errors=errors,
        values={},  # the word is never shown again, not even after a mistake
        **common(expert=expert, label=label(expert)),
    )


@router.get("/experts/{expert_id}/not-safe-word", response_class=HTMLResponse)
async def word_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        return _word_page(page, await expert_page(page, expert_id))


@router.post("/experts/{expert_id}/not-safe-word")
async def word_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            if page.field("action") == "clear":
                await clear_safe_word(page.session, expert, now=page.now, actor=page.actor)
                flash = "Their \u201cnot safe now\u201d word is removed."
            else:
                await set_safe_word(
                    page.session,
                    page.web.built.cipher,
                    expert,
                    page.field("safe_word"),
                    DistressWords.load(),
                    now=page.now,
                    actor=page.actor,
                )
                flash = "Their \u201cnot safe now\u201d word is saved. Nobody can read it back."
        except Refused as exc:
            return _word_page(page, expert, exc.by_field("safe_word"))
        return page.redirect(f"/experts/{expert.id}", flash=flash)


async def _withdraw_page(
    page: Page, expert: Expert, errors: dict[str, str] | None = None
) -> Response:
    worker = await responsible_today(page.session, expert, page.now)
    retention = await retention_in_force(page.session, page.web.built.maintenance().config)
    return page.render(
        "experts/withdraw.html",
        errors=errors,
        values=posted(page) if errors else {},
        **common(
            expert=expert,
            label=label(expert),
            left=expert.status is ExpertStatus.WITHDRAWN,
            may_say_goodbye=page.viewer.id in (expert.link_worker_id, worker.id),
            worker=worker,
            erase_at=(expert.withdrawn_at or page.now) + retention.leavers,
            keep_days=retention.leavers.days,
        ),
    )


@router.get("/experts/{expert_id}/withdraw", response_class=HTMLResponse)
async def withdraw_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        return await _withdraw_page(page, await expert_page(page, expert_id))


@router.post("/experts/{expert_id}/withdraw")
async def withdraw_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        if page.field("confirm") != "yes":
            errors = {"confirm": "Confirm that they want to leave, after talking it through"}
            return await _withdraw_page(page, expert, errors)
        retention = await retention_in_force(page.session, page.web.built.maintenance().config)
        try:
            done = await withdraw_expert(
                page.session,
                expert.id,
                reason=page.field("reason"),
                by=page.viewer,
                goodbye=page.field("goodbye"),
                retention=retention,
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            return await _withdraw_page(page, expert, exc.by_field("reason"))
        said = [f"{done.cancelled} waiting message{'s' if done.cancelled != 1 else ''} cancelled"]
        if done.invitations:
            said.append(
                f"{done.invitations} invitation{'s' if done.invitations != 1 else ''} withdrawn"
            )
        if done.goodbye:
            said.append("your goodbye will go in their safe hours")
        return page.redirect(
            f"/experts/{expert.id}",
            flash=f"They have left: {', '.join(said)}. Their link worker has a task to offer "
            f"a conversation about leaving. Their record is erased on {done.erase_on}, as the "
            "privacy settings say, unless a task about them is still open or a payment to them "
            "unsettled then.",
        )
