"""Planned messages as the pages show them: every page asks here, so a message reads the
same (time it really goes, channel, status word, "Too late") on the engagement page and
the expert page, computed by the one shared forecast."""

from __future__ import annotations

from collections.abc import Sequence

from bot.web.admin.pages import Page
from scheduling.planning.expected import coming_up, expected_messages
from scheduling.rules.forecast import Expected
from scheduling.rules.frequency import FrequencyCap
from store.models import Message


def frequency_cap(page: Page) -> FrequencyCap:
    settings = page.web.built.settings
    return FrequencyCap(settings.cap_per_day, settings.cap_per_week)


async def expected(page: Page, messages: Sequence[Message]) -> dict[int, list[Expected]]:
    """``messages`` by expert, as they will really go."""
    return await expected_messages(
        page.session, messages, page.web.built.channels, frequency_cap(page), page.now
    )


async def coming_up_for(page: Page, expert_id: int) -> list[Expected]:
    """One expert's waiting messages, about anything, as they will really go."""
    return (await expected(page, await coming_up(page.session, expert_id))).get(expert_id, [])
