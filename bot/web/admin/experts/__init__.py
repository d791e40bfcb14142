"""The experts pages, one module per area: the list, adding someone and their profile
(``listing``), new contact details (``contact``), consent, channels and safe times
(``safety``), and keeping in touch (``keeping_in_touch``); ``forms`` reads their forms.

Every page with an expert's id asks ``expert_in_scope`` first, so someone else's expert is
"not found". The work is done by the same services the command line uses; the handlers
read the form, call one service and say what happened.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute

from bot.web.admin.experts import contact, keeping_in_touch, listing, safety
from bot.web.admin.experts.shared import HandOver
from bot.web.admin.pages import Web

# listing first: its fixed paths (/experts/new, /experts/changes) come before any
# /experts/{expert_id} page.
_AREAS = (listing, contact, safety, keeping_in_touch)


def routes(web: Web) -> APIRouter:
    """Every experts page, each handed this app's `Web` through the request.

    The pages are added one by one rather than as included routers, so the app's route
    list names every page itself (a nested include shows as one entry).
    """
    combined = APIRouter(dependencies=[Depends(HandOver(web))])
    for area in _AREAS:
        for route in area.router.routes:
            assert isinstance(route, APIRoute)
            combined.add_api_route(
                route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                response_class=route.response_class,
                name=route.name,
            )
    return combined
