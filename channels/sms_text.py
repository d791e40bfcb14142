"""How a text message is split and charged: GSM-7 or UCS-2, and how many segments.

Pure, with no provider library, so the staff preview can count segments without reaching
Twilio (the services may not import channels.sms).
"""

from __future__ import annotations

# --- GSM-7 ---------------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")  # each costs two septets (escape + char)

# Typography that word processors add; each has a plain GSM-7 twin, and leaving one in
# would silently switch the whole text to UCS-2 and more than double its segments.
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def plain_text(text: str) -> str:
    """Swap curly quotes, dashes and the ellipsis for their GSM-7 equivalents."""
    return text.translate(_PLAIN)


def segments(text: str) -> tuple[str, int]:
    """How Twilio will split ``text``: ("GSM-7" or "UCS-2", number of segments).

    GSM-7 fits 160 septets in one segment or 153 per segment when split; UCS-2 fits 70
    UTF-16 units or 67 per segment. A two-unit character (a GSM escape, an emoji's
    surrogate pair) is never split across segments, so counting packs greedily.
    """
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return "GSM-7", _pack(costs, single=160, multi=153)
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return "UCS-2", _pack(costs, single=70, multi=67)


def _pack(costs: list[int], *, single: int, multi: int) -> int:
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            count, used = count + 1, 0
        used += cost
    return count
