"""The replies inbox: what experts wrote that waits for a person, worrying ones first.

The list never shows what anyone wrote (a screen can be seen over a shoulder or on a lock
screen); the words are on each reply's own page, and opening it is recorded. Saying "I have
read this" is a person's act, with their name, and can lift the hold on automated messages.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.inbox.replies import (
    acknowledge,
    age_in_words,
    describe_intent,
    list_replies,
    reply_context,
)
from bot.services.inbox.safe_reach import safe_reach
from bot.services.inbox.settle import settle_reply
from bot.services.staff.access import reply_in_scope
from bot.web.admin.pages import Page, Web
from store.errors import Refused
from store.models import Reply


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/replies", response_class=HTMLResponse)
    async def inbox(request: Request) -> Response:
        everything = request.query_params.get("show") == "all"
        async with web.page(request) as page:
            rows = await list_replies(
                page.session,
                now=page.now,
                limits=web.built.ack_limits(),
                everything=everything,
                where=page.scope.replies(),
                limit=200 if everything else 500,
            )
            return page.render(
                "replies/list.html",
                rows=rows,
                everything=everything,
                age_in_words=age_in_words,
                describe_intent=describe_intent,
            )

    async def show_reply(page: Page, reply: Reply, **extra: Any) -> HTMLResponse:
        await page.session.refresh(reply, ["expert", "acknowledged_by"])
        context = await reply_context(
            page.session, reply, now=page.now, limits=web.built.ack_limits()
        )
        reach = None
        if reply.expert_id is not None and reply.acknowledged_at is None:
            reach = await safe_reach(page.session, reply.expert_id, page.now)
        page.viewed("reply", reply.id)
        return page.render(
            "replies/show.html",
            reply=reply,
            context=context,
            reach=reach,
            understood=describe_intent(reply),
            waited=age_in_words(page.now - reply.received_at),
            overdue=context.deadline is not None and context.deadline <= page.now,
            **extra,
        )

    @router.get("/replies/{reply_id:int}", response_class=HTMLResponse)
    async def show(request: Request, reply_id: int) -> Response:
        async with web.page(request) as page:
            reply = await reply_in_scope(page.session, page.scope, reply_id)
            return await show_reply(page, reply)

    @router.post("/replies/{reply_id:int}/done")
    async def done(request: Request, reply_id: int) -> Response:
        """What was done, the reply read and its task closed: one act, one record."""
        async with web.page(request) as page:
            reply = await reply_in_scope(page.session, page.scope, reply_id)
            if reply.acknowledged_at is not None:
                return page.redirect(
                    f"/replies/{reply.id}", flash="Someone had already marked this reply as read."
                )
            try:
                settled = await settle_reply(
                    page.session,
                    reply,
                    page.field("note"),
                    page.viewer,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                return await show_reply(page, reply, errors=page.refusal(exc, "note"))
            message = "Recorded what you did and marked it as read"
            if settled.task_closed:
                message += ". Its task is closed"
            if settled.hold_lifted:
                message += ". Automated messages to them can go again"
            return page.redirect("/replies", flash=message + ".")

    @router.post("/replies/{reply_id:int}/ack")
    async def ack(request: Request, reply_id: int) -> Response:
        async with web.page(request) as page:
            reply = await reply_in_scope(page.session, page.scope, reply_id)
            if reply.acknowledged_at is not None:
                return page.redirect(
                    f"/replies/{reply.id}", flash="Someone had already marked this reply as read."
                )
            lifted = await acknowledge(page.session, reply, page.viewer, now=page.now)
            message = "Marked as read. Thank you."
            if lifted:
                message = (
                    "Marked as read. That was the last worrying reply waiting from them, so "
                    "automated messages to them can go again."
                )
            return page.redirect("/replies", flash=message)

    return router
