"""Channel health for administrators: live or dry-run, the last send that worked, recent
failures, and charts of each day's sends, drawn on the server (`svg_charts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from bot.services.delivery.stats import (
    CHART_DAYS,
    DayCounts,
    channel_health,
    daily_counts,
    message_counts,
)
from bot.web.admin.pages import Web
from bot.web.admin.svg_charts import Series, bar_chart
from scheduling.text.words import CHANNELS_FOR_STAFF
from store.enums import Channel

# The dashboard's counts cover this week, today included.
DASHBOARD_DAYS = 7


@dataclass(frozen=True)
class ChannelChart:
    channel: Channel
    label: str
    svg: Markup
    days: list[DayCounts]

    @property
    def rows(self) -> list[list[dict[str, object]]]:
        """The same numbers as the chart, for its table: the accessible alternative."""
        return [
            [
                {"text": f"{d.day:%a %-d %b}"},
                {"text": d.sent, "format": "numeric"},
                {"text": d.delivered, "format": "numeric"},
                {"text": d.failed, "format": "numeric"},
            ]
            for d in self.days
        ]


def _chart(channel: Channel, days: list[DayCounts]) -> ChannelChart:
    label = CHANNELS_FOR_STAFF[channel]
    first, last = days[0].day, days[-1].day
    totals = [sum(getattr(d, what) for d in days) for what in ("sent", "delivered", "failed")]
    svg = bar_chart(
        chart_id=f"chart-{channel.value}",
        title=f"{label}: sent, delivered and failed each day",
        description=(
            f"Bars for each of the {len(days)} days from {first:%-d %B} to {last:%-d %B %Y}. "
            f"In all: {totals[0]} sent, {totals[1]} delivered, {totals[2]} failed. "
            "The table after the chart gives each day's numbers."
        ),
        categories=[f"{d.day:%-d}" for d in days],
        series=[
            Series("Sent", [d.sent for d in days]),
            Series("Delivered", [d.delivered for d in days]),
            Series("Failed", [d.failed for d in days]),
        ],
        x_label=f"Day of the month (UK time), {first:%-d %B} to {last:%-d %B %Y}",
        y_label="Messages",
    )
    # bar_chart escapes every piece of text it draws, so its markup can go in as it is.
    return ChannelChart(channel, label, Markup(svg), days)


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/admin/channels", response_class=HTMLResponse)
    async def channels(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            modes = page.web.built.settings.channel_modes()
            failing_at = page.web.built.settings.channel_failing_percent
            health = await channel_health(page.session, page.now, modes, failing_at)
            tz = page.web.built.settings.default_time_zone
            counts = await daily_counts(page.session, page.now, CHART_DAYS, tz=tz)
            first_day = page.today - timedelta(days=DASHBOARD_DAYS - 1)
            recent = await message_counts(page.session, first_day, tz=tz)
            return page.render(
                "admin/channels.html",
                health=health,
                labels=CHANNELS_FOR_STAFF,
                charts=[_chart(channel, days) for channel, days in counts.items()],
                chart_days=CHART_DAYS,
                recent=recent,
                recent_from=first_day.isoformat(),
                dashboard_days=DASHBOARD_DAYS,
            )

    return router
