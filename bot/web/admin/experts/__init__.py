"""The experts pages, one module per area: the list, adding someone and their profile
(``listing``), new contact details (``contact``), consent, channels and safe times
(``safety``), keeping in touch (``keeping_in_touch``), and their "not safe now" word and
leaving (``leaving``); ``forms`` reads their forms.

Every page with an expert's id asks ``expert_in_scope`` first, so someone else's expert is
"not found". The work is done by the same services the command line uses; the handlers
read the form, call one service and say what happened.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.admin.areas import area_routes
from bot.web.admin.experts import contact, keeping_in_touch, leaving, listing, safety
from bot.web.admin.pages import Web


def routes(web: Web) -> APIRouter:
    """Every experts page, each handed this app's `Web` through the request. ``listing``
    comes first: its fixed paths (/experts/new, /experts/changes) come before any
    /experts/{expert_id} page."""
    return area_routes(
        web, listing.router, contact.router, safety.router, keeping_in_touch.router, leaving.router
    )
