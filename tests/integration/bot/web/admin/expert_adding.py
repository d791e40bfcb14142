"""Adding an expert through the pages as a person does: each section of the task list in
turn, then "Add expert" on the check-your-answers page."""

from __future__ import annotations

from typing import Any

import httpx

from tests.staff_client import StaffClient

# Each section's page and the fields it posts, in the task list's order.
SECTIONS: dict[str, tuple[str, ...]] = {
    "name": ("preferred_name", "ref", "time_zone"),
    "contact": ("phone", "email", "postal_address"),
    "channels": ("preferred_channel", "fallback_channels", "details", "discreet", "access_needs"),
    "times": ("window_days", "window_from", "window_until", "window_all_day"),
    "worker": ("link_worker", "pastoral_level"),
}


def new_expert(worker_id: int, **overrides: Any) -> dict[str, Any]:
    """Cat, all sections filled in; ``overrides`` change or add fields."""
    form: dict[str, Any] = {
        "preferred_name": "Cat",
        "ref": "EX-9",
        "link_worker": str(worker_id),
        "time_zone": "Europe/London",
        "discreet": "yes",
        "access_needs": ["large_print"],
        "phone": "07123 456702",
        "email": "cat@example.net",
        "postal_address": "1 Quiet Road\nEdinburgh\nEH3 3CC",
        "preferred_channel": "sms",
        "fallback_channels": ["email"],
        "details": ["sms"],
        "window_days": ["mon", "tue", "wed", "thu", "fri"],
        "window_from": "9am",
        "window_until": "5:30pm",
        "pastoral_level": "monthly",
    }
    form.update(overrides)
    return form


async def fill_in(client: StaffClient, form: dict[str, Any]) -> httpx.Response:
    """Every section, stopping at the first page that is shown again with a problem;
    otherwise the answer to "Add expert"."""
    for slug, fields in SECTIONS.items():
        posted = {f: form[f] for f in fields if f in form}
        answer = await client.post(f"/experts/new/{slug}", posted)
        if answer.status_code != 303:
            return answer
    return await client.post("/experts/new/check", {})
