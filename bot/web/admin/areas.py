"""How an area's module-level page handlers reach the app's `Web`.

Handlers live at module level (one module per part of an area), but each app is built
with its own `Web` (templates, settings, clock), so tests can run several apps in one
process. `area_routes` mounts an area's routers with a dependency that puts that `Web` on
every request; a handler asks for it with a parameter typed `StaffWeb`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute

from bot.web.admin.pages import Web

_STATE_KEY = "staff_web"


class _HandOver:
    """A router dependency that puts the app's `Web` on each request."""

    def __init__(self, web: Web) -> None:
        self.web = web

    def __call__(self, request: Request) -> None:
        setattr(request.state, _STATE_KEY, self.web)


def web_of(request: Request) -> Web:
    """The `Web` the area's router put on this request."""
    web: Web = getattr(request.state, _STATE_KEY)
    return web


StaffWeb = Annotated[Web, Depends(web_of)]


def area_routes(web: Web, *routers: APIRouter) -> APIRouter:
    """One router with every page of the given routers, in order, each handed `web`.

    The pages are added one by one rather than as included routers, so the app's route
    list names every page itself (an included router can show as one entry). Order
    matters: fixed paths such as ``/experts/new`` must come before ``/experts/{id}``.
    """
    combined = APIRouter(dependencies=[Depends(_HandOver(web))])
    for router in routers:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            combined.add_api_route(
                route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                response_class=route.response_class,
                name=route.name,
            )
    return combined
