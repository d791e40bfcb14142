"""The letter channel for the contract: the real PDFs, read back with pypdf.

``to`` is only the text printed inside the envelope window, so the contract's "exactly one
person, the right one" check is about what the postal worker (and anyone else) can see.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from channels.base import OutgoingMessage, PermanentError, Receipt
from channels.letter import LetterChannel, LetterConfig, WindowPosition
from tests.integration.channels.harness import Failure, Received

HARNESS = "letter_harness"
_PX_PER_MM = 96 / 25.4  # WeasyPrint draws in CSS pixels


class _FailingLetters(LetterChannel):
    """The real channel, with a broken renderer or a bad address when asked."""

    def __init__(self, config: LetterConfig) -> None:
        super().__init__(config)
        self.next_failure: Failure | None = None
        self._break_rendering = False

    async def send(self, message: OutgoingMessage) -> Receipt:
        failure, self.next_failure = self.next_failure, None
        if failure == "opt_out":  # a letter has no provider opt-out: simulated here only
            raise PermanentError("recipient opted out", opt_out_reason="asked for no more letters")
        if failure == "permanent":
            message = replace(message, to=message.to + "\n" + "x" * 60)
        self._break_rendering = failure == "transient"
        return await super().send(message)

    def _render_pdf(self, html: str) -> tuple[bytes, int]:
        if self._break_rendering:
            raise RuntimeError("renderer broke")
        return super()._render_pdf(html)


def window_text(path: Path, window: WindowPosition) -> str:
    """The lines drawn inside the envelope window on the first page, top to bottom."""
    left, right = window.left * _PX_PER_MM, (window.left + window.width) * _PX_PER_MM
    top, bottom = window.top * _PX_PER_MM, (window.top + window.height) * _PX_PER_MM
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        x, y = tm[4], tm[5]  # WeasyPrint flips the page, so y counts down from the top
        if text.strip() and left - 1 <= x <= right and top <= y <= bottom:
            found.append((y, text.strip()))

    PdfReader(path).pages[0].extract_text(visitor_text=visit)
    return "\n".join(text for _, text in sorted(found))


class LetterHarness:
    def __init__(self, folder: Path) -> None:
        self.config = LetterConfig(folder=folder, time_zone="Europe/London")
        self.channel = _FailingLetters(self.config)

    def address(self) -> str:
        return "Flat 2\n8 Sample Road\nDundee DD1 1AA"

    def received(self) -> list[Received]:
        out = []
        for path in sorted((self.config.folder / "pending").glob("*.pdf")):
            text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
            out.append(Received(to=window_text(path, self.config.window), text=text))
        return out

    def fail_next(self, failure: Failure) -> None:
        self.channel.next_failure = failure


@pytest.fixture
def letter_harness(tmp_path: Path) -> LetterHarness:
    return LetterHarness(tmp_path / "letters")
