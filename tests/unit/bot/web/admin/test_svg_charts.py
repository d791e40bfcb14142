"""Server-side bar charts: every text escaped, readable without colour, titled for
assistive technology, and no style attribute for the CSP to block."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from bot.web.admin.svg_charts import Series, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def _chart(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "chart_id": "chart-sms",
        "title": "Texts each day",
        "description": "Sent, delivered and failed texts for three days.",
        "categories": ["1", "2", "3"],
        "series": [
            Series("Sent", [4, 0, 7]),
            Series("Delivered", [3, 0, 6]),
            Series("Failed", [1, 0, 12]),
        ],
        "x_label": "Day of the month",
        "y_label": "Messages",
    }
    arguments.update(overrides)
    return bar_chart(**arguments)  # type: ignore[arg-type]


def test_the_chart_is_one_titled_image_to_assistive_technology() -> None:
    svg = ET.fromstring(_chart())
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-sms-title chart-sms-desc"
    assert svg.find(f"{SVG}title").get("id") == "chart-sms-title"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}title").text == "Texts each day"  # type: ignore[union-attr]
    assert svg.find(f"{SVG}desc").get("id") == "chart-sms-desc"  # type: ignore[union-attr]


def test_each_series_has_its_own_pattern_as_well_as_its_own_colour() -> None:
    svg = ET.fromstring(_chart())
    patterns = svg.findall(f".//{SVG}pattern")
    assert [p.get("id") for p in patterns] == ["chart-sms-fill-1", "chart-sms-fill-2"]
    assert patterns[0].get("patternTransform") == "rotate(45)"  # stripes
    assert patterns[1].find(f"{SVG}path") is not None  # cross-hatch
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    fills = {r.find(f"{SVG}title").text.split()[-1]: r.get("fill") for r in bars}  # type: ignore[union-attr]
    assert fills == {
        "sent": "#1d70b8",
        "delivered": "url(#chart-sms-fill-1)",
        "failed": "url(#chart-sms-fill-2)",
    }
    assert len({r.get("stroke") for r in bars}) == 3


def test_the_legend_axes_and_bars_carry_their_words_and_numbers() -> None:
    markup = _chart()
    texts = [t.text for t in ET.fromstring(markup).iter(f"{SVG}text")]
    for word in ("Sent", "Delivered", "Failed", "Messages", "Day of the month", "1", "2", "3"):
        assert word in texts
    assert "<title>3: 12 failed</title>" in markup and "<title>1: 4 sent</title>" in markup
    assert "0 sent" not in markup  # no bar for nothing; the table says 0
    ticks = [int(t) for t in texts if t and t.isdigit()]
    assert max(ticks) >= 12  # the scale reaches the largest bar


def test_every_text_is_escaped() -> None:
    hostile = "<script>alert('x')</script> & \"quotes\""
    markup = _chart(
        title=hostile,
        description=hostile,
        categories=[hostile, "2", "3"],
        series=[Series(hostile, [1, 2, 3])],
        x_label=hostile,
        y_label=hostile,
    )
    assert "<script" not in markup and "&lt;script&gt;" in markup
    svg = ET.fromstring(markup)  # still well-formed
    assert svg.find(f"{SVG}title").text == hostile  # type: ignore[union-attr]


def test_no_style_attribute_or_element_for_the_csp_to_block() -> None:
    markup = _chart()
    assert not re.search(r"\sstyle=", markup) and "<style" not in markup
    assert "<script" not in markup


def test_all_zero_and_empty_charts_still_draw() -> None:
    zero = ET.fromstring(_chart(series=[Series("Sent", [0, 0, 0])]))
    assert [t.text for t in zero.iter(f"{SVG}text")].count("0") >= 1
    ET.fromstring(_chart(categories=[], series=[Series("Sent", [])]))


def test_a_bad_id_or_mismatched_series_is_a_mistake_in_the_code() -> None:
    with pytest.raises(ValueError, match="chart_id"):
        _chart(chart_id='x" onload="alert(1)')
    with pytest.raises(ValueError, match="one value per category"):
        _chart(series=[Series("Sent", [1])])
