"""The experts pages, one module per area: the list and one expert's profile
(``listing``), adding someone as a task list (``adding``), new contact details
(``contact``), consent, channels and safe times (``safety``), keeping in touch
(``keeping_in_touch``), the conversation with them: writing through Linkline and
staff notes (``conversation``), and their "not safe now" word and leaving
(``leaving``); ``forms`` reads their forms.

Every page with an expert's id asks ``expert_in_scope`` first, so someone else's expert is
"not found". The work is done by the same services the command line uses; the handlers
read the form, call one service and say what happened.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.admin.areas import area_routes
from bot.web.admin.experts import (
    adding,
    contact,
    conversation,
    keeping_in_touch,
    leaving,
    listing,
    safety,
)
from bot.web.admin.pages import Web


def routes(web: Web) -> APIRouter:
    """Every experts page, each handed this app's `Web` through the request. ``adding`` and
    ``listing`` come first: their fixed paths (/experts/new..., /experts/changes) come
    before any /experts/{expert_id} page."""
    return area_routes(
        web,
        adding.router,
        listing.router,
        contact.router,
        safety.router,
        keeping_in_touch.router,
        conversation.router,
        leaving.router,
    )
