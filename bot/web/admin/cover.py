"""(being built)"""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.admin.pages import Web


def routes(web: Web) -> APIRouter:
    router = APIRouter()
    return router
