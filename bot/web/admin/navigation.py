"""The staff pages' menus: the main one, and administrators' own row under it.

Two rows rather than one long menu, so neither wraps at desktop widths and a link
worker's pages stay apart from an administrator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.enums import Role
from store.models import Staff


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str


LINK_WORKER_NAV = (
    NavItem("Home", "/"),
    NavItem("Experts", "/experts"),
    NavItem("Engagements", "/engagements"),
    NavItem("Contact plans", "/plans"),
    NavItem("Replies", "/replies"),
    NavItem("Tasks", "/tasks"),
    NavItem("Cover", "/cover"),
)
ADMIN_NAV = (
    NavItem("Delivery log", "/admin/delivery"),
    NavItem("Needs attention", "/admin/attention"),
    NavItem("Payments", "/admin/payments"),
    NavItem("Channels", "/admin/channels"),
    NavItem("Staff", "/admin/staff"),
    NavItem("Audit log", "/admin/audit"),
    NavItem("Privacy", "/admin/privacy"),
)


def menus(viewer: Staff | None, path: str) -> dict[str, list[dict[str, Any]]]:
    """``nav`` (everyone signed in) and ``admin_nav`` (administrators), the page's own
    item marked active."""
    admin = viewer is not None and viewer.role is Role.ADMIN

    def shown(items: tuple[NavItem, ...]) -> list[dict[str, Any]]:
        return [
            {
                "text": item.text,
                "href": item.href,
                "active": path == item.href
                or (item.href != "/" and path.startswith(item.href + "/")),
            }
            for item in items
        ]

    return {
        "nav": shown(LINK_WORKER_NAV) if viewer is not None else [],
        "admin_nav": shown(ADMIN_NAV) if admin else [],
    }
