"""Engagement pages: set one up, publish it, invite people, and follow it through to
attendance, outcomes or a cancellation.

Every change goes through `bot.services.engagements` (the same calls the CLI makes), so
the contact plan in the outbox is re-planned in the same transaction, and whether an
action may happen is the services' answer (`bot.services.engagements.rules`). Each module
holds one part with its handlers at module level; `routes` mounts them with the app's
`Web`.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.admin.areas import area_routes
from bot.web.admin.engagements import afterwards, cancelling, invitations, setup
from bot.web.admin.pages import Web


def routes(web: Web) -> APIRouter:
    """Every engagement page, each request handed this app's `Web`. ``setup`` first:
    "/engagements/new" must be matched before "/engagements/{engagement_id}"."""
    return area_routes(web, setup.router, invitations.router, afterwards.router, cancelling.router)
