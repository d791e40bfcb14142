"""The words someone wrote in an email reply, without what their mail program added.

A reply usually carries our own message below it ("On Monday, Sam wrote: > ..."), and a
signature. Both are cut: the quoted history is ours (our words must not be read as their
distress, or as their answer), and a signature is not part of what they said. When cutting
would leave nothing, the whole text is kept instead: a person reads it, nothing is lost.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# "On Mon, 12 Jan 2026 at 08:00, Sam <replies@example.org> wrote:" (often wrapped over
# two lines), and the ways Outlook and others start the quoted message.
_ATTRIBUTION = re.compile(r"^\s*(On\b.{0,300}?\bwrote:|Le\b.{0,300}?\ba écrit\s*:)\s*$", re.S)
_HISTORY_STARTS = (
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*From:\s.+$", re.I),  # Outlook's header block (checked with Sent:/To:)
)
_SIGNATURE_STARTS = (
    re.compile(r"^-- ?$"),  # the standard delimiter
    re.compile(r"^\s*Sent from my \w+", re.I),
    re.compile(r"^\s*Get Outlook for \w+", re.I),
    re.compile(r"^\s*Sent from (Yahoo|Mail|Outlook)\b", re.I),
)
_BLANK_RUNS = re.compile(r"\n{3,}")


def reply_text(text: str) -> str:
    """What they wrote: quoted history and signature cut, or everything when that is all."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = cleaned.split("\n")
    kept = _before_signature(_before_history(lines))
    words = "\n".join(line.rstrip() for line in kept if not line.lstrip().startswith(">"))
    words = _BLANK_RUNS.sub("\n\n", words).strip()
    return words or cleaned.strip()


def _before_history(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        pair = line + "\n" + (lines[index + 1] if index + 1 < len(lines) else "")
        if _ATTRIBUTION.match(line) or (
            line.strip().startswith("On ") and _ATTRIBUTION.match(pair)
        ):
            return lines[:index]
        if any(pattern.match(line) for pattern in _HISTORY_STARTS[:3]):
            return lines[:index]
        if _HISTORY_STARTS[3].match(line) and _outlook_block(lines[index + 1 : index + 4]):
            return lines[:index]
    return lines


def _outlook_block(following: list[str]) -> bool:
    return any(re.match(r"^\s*(Sent|Date|To|Subject):\s", line, re.I) for line in following)


def _before_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _SIGNATURE_STARTS):
            return lines[:index]
    return lines


class _Text(HTMLParser):
    """The readable text of an HTML email: tags gone, blocks on lines of their own,
    quoted blocks (``<blockquote>``) and scripts or styles left out."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})
    _SKIPPED = frozenset({"script", "style", "head", "title", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from an HTML-only email; a parser failure keeps the unescaped source."""
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; whatever it still refuses is kept as text
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
