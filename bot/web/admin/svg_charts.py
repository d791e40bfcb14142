"""Bar charts drawn on the server as inline SVG: no JavaScript, no chart library.

`bar_chart` is a pure function, data in and markup out. Every piece of text in it is
escaped here, which is what lets a template mark the result safe. The page's CSP
(style-src 'self') blocks style attributes, so only SVG presentation attributes are used.

Readable without colour (WCAG 1.4.1): each series has its own fill pattern (solid,
stripes, cross-hatch) as well as its own colour, and the legend names them in text. The
chart is one image to assistive technology (role="img", titled and described); the same
numbers belong in a table beside it, which is the accessible alternative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# GOV.UK colours, each at least 3:1 against white (WCAG 1.4.11).
_STYLES = (
    ("solid", "#1d70b8"),
    ("stripes", "#0f7a52"),
    ("crosshatch", "#ca3535"),
)
_TEXT = "#0b0c0c"
_GRID = "#cecece"
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,60}")

BAR = 10
GAP = 12
LEFT, RIGHT, TOP, PLOT_HEIGHT = 56, 16, 48, 200


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _nice_step(largest: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving at most five gridlines."""
    rough = max(largest / 4, 1)
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def _patterns(chart_id: str, count: int) -> list[str]:
    defs = []
    for index in range(count):
        kind, colour = _STYLES[index % len(_STYLES)]
        pid = f"{chart_id}-fill-{index}"
        if kind == "solid":
            continue
        if kind == "stripes":
            defs.append(
                f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
                f'<rect width="3" height="6" fill="{colour}"/></pattern>'
            )
        else:
            defs.append(
                f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
                f'<rect width="6" height="6" fill="#ffffff"/><path d="M0 0L6 6M6 0L0 6" '
                f'stroke="{colour}" stroke-width="1.5"/></pattern>'
            )
    return defs


def _fill(chart_id: str, index: int) -> tuple[str, str]:
    kind, colour = _STYLES[index % len(_STYLES)]
    return (colour if kind == "solid" else f"url(#{chart_id}-fill-{index})"), colour


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    y_label: str,
) -> str:
    """Grouped bars, one group per category and one bar per series, as an SVG string.

    ``chart_id`` must be unique on the page: the title, description and fill patterns
    are referred to by ids made from it.
    """
    if not _ID.fullmatch(chart_id):
        raise ValueError("chart_id must be a letter then letters, digits, '-' or '_'")
    if any(len(s.values) != len(categories) for s in series):
        raise ValueError("every series needs one value per category")
    group = max(len(series), 1) * BAR + GAP
    legend_at = [LEFT]
    for one in series:
        legend_at.append(legend_at[-1] + 22 + 8 * len(one.label) + 20)
    plot_right = LEFT + len(categories) * group
    width = max(plot_right, legend_at[-1]) + RIGHT
    base = TOP + PLOT_HEIGHT
    height = base + 64
    largest = max((v for s in series for v in s.values), default=0)
    step = _nice_step(largest)
    top = max(step * math.ceil(largest / step), step)

    def y_of(value: float) -> float:
        return base - value / top * PLOT_HEIGHT

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_e(title)}</title>',
        f'<desc id="{chart_id}-desc">{_e(description)}</desc>',
    ]
    defs = _patterns(chart_id, len(series))
    if defs:
        parts.append("<defs>" + "".join(defs) + "</defs>")
    # Legend, in text: each swatch has the same pattern and colour as its bars.
    for index, (one, x) in enumerate(zip(series, legend_at, strict=False)):
        fill, colour = _fill(chart_id, index)
        parts.append(
            f'<rect x="{x}" y="10" width="16" height="16" fill="{fill}" stroke="{colour}" '
            f'stroke-width="1"/><text x="{x + 22}" y="23" font-size="14" fill="{_TEXT}">'
            f"{_e(one.label)}</text>"
        )
    # Gridlines and the value axis.
    for tick in range(0, top + 1, step):
        y = y_of(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="{_TEXT}">{tick}</text>'
        )
    parts.append(
        f'<text x="{-(TOP + PLOT_HEIGHT / 2):.1f}" y="16" transform="rotate(-90)" '
        f'text-anchor="middle" font-size="12" fill="{_TEXT}">{_e(y_label)}</text>'
    )
    # The bars, each with its own tooltip, and the category labels beneath.
    for position, category in enumerate(categories):
        left = LEFT + position * group + GAP / 2
        for index, one in enumerate(series):
            value = one.values[position]
            if not value:
                continue  # no bar; the table beneath still says 0
            fill, colour = _fill(chart_id, index)
            bar_height = max(value / top * PLOT_HEIGHT, 1.0)
            parts.append(
                f'<rect x="{left + index * BAR:.1f}" y="{base - bar_height:.1f}" '
                f'width="{BAR}" height="{bar_height:.1f}" fill="{fill}" stroke="{colour}" '
                f'stroke-width="1"><title>{_e(category)}: {value} {_e(one.label.lower())}'
                f"</title></rect>"
            )
        parts.append(
            f'<text x="{left + len(series) * BAR / 2:.1f}" y="{base + 18}" '
            f'text-anchor="middle" font-size="12" fill="{_TEXT}">{_e(category)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{base}" x2="{plot_right}" y2="{base}" stroke="{_TEXT}" '
        f'stroke-width="1"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" '
        f'stroke="{_TEXT}" stroke-width="1"/>'
    )
    parts.append(
        f'<text x="{(LEFT + plot_right) / 2:.1f}" y="{base + 44}" '
        f'text-anchor="middle" font-size="12" fill="{_TEXT}">{_e(x_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
