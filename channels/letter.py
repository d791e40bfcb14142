"""Letters: one tagged A4 PDF per message, left in a folder for the print room.

Half of the people we write to may have their post read by someone who hurts them, so the
envelope window shows only their name, their address and a neutral return address, and the
page carries no logo and no organisation name. The PDF file is the proof of sending: it is
written whole (temp name, then rename) before send() returns, so lookup() is conclusive.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from channels.base import (
    ChannelLimits,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from channels.working_days import letter_arrival
from store.enums import Channel

LAYOUT_DIR = Path(__file__).parent / "letter_layout"
MAX_ADDRESS_LINES = 7
MAX_LINE_CHARS = 45
FORMATS_LINE = (
    "You can ask for this letter in large print, easy read or another language, "
    "in the same way you answer it."
)
FONTS = 'Arial, "Liberation Sans", "DejaVu Sans", sans-serif'
_PAGE = {"top": 15, "side": 20, "bottom": 22}  # mm; the window is placed relative to these
_QUEUED = "queued for printing"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class WindowPosition:
    """Where the envelope window sits on the A4 page, in mm from the top-left corner.

    The default fits a DL or C5 window envelope as sold in the UK; other envelopes differ by
    several mm, so it is configurable rather than guessed.
    """

    left: float = 20
    top: float = 50
    width: float = 90
    height: float = 40


@dataclass(frozen=True)
class LetterConfig:
    """Where letters go and what shows through the envelope window.

    ``return_address`` is a PO box or nothing, never an organisation name: it is printed
    small above the recipient's address, where anyone handling the post can read it.
    ``time_zone`` is the postal service's: the day a letter is dated, posted and delivered.
    """

    folder: Path
    return_address: str = ""
    window: WindowPosition = field(default_factory=WindowPosition)
    time_zone: str = field(kw_only=True)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def file_stem(idempotency_key: str) -> str:
    """A file name that a key can never escape the folder with, and still unique per key."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in idempotency_key)[:80]
    return f"{safe}-{digest}"


def letter_id(stem: str) -> str:
    """The provider id stored on the delivery attempt; the batch manifest uses the same."""
    return f"letter-{stem}"


def address_lines(message: OutgoingMessage) -> list[str]:
    """The lines shown in the window, or PermanentError if they cannot fit it."""
    lines = [line.strip() for line in message.to.splitlines() if line.strip()]
    if not lines:
        raise PermanentError("no postal address to send to")
    if len(lines) > MAX_ADDRESS_LINES or any(len(line) > MAX_LINE_CHARS for line in lines):
        raise PermanentError("the address does not fit the envelope window")
    name = message.recipient_name.strip()
    if name and len(name) > MAX_LINE_CHARS:
        raise PermanentError("the address does not fit the envelope window")
    return [name, *lines] if name else lines


@lru_cache(maxsize=1)
def layout_environment() -> jinja2.Environment:
    """Templates load by path next to this module, so no package-data setting is needed."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(LAYOUT_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )


def _paragraphs(body: str) -> list[list[str]]:
    blocks = re.split(r"\n\s*\n", body.strip())
    return [[line.strip() for line in b.splitlines() if line.strip()] for b in blocks if b.strip()]


def _sentences(body: str) -> list[str]:
    """Easy Read puts one idea on each line: split every paragraph into its sentences."""
    text = " ".join(" ".join(p) for p in _paragraphs(body))
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _sizes(message: OutgoingMessage) -> tuple[float, float]:
    """Body size and line height: 14pt clear print, 18pt large print, 16pt Easy Read."""
    if message.large_print:
        return 18, 1.5
    if message.easy_read:
        return 16, 1.5
    return 14, 1.4


def render_letter_html(
    message: OutgoingMessage, config: LetterConfig, today: date, *, page_numbers: bool = False
) -> str:
    """The letter as HTML: pure, so tests can check sizes and wording without a PDF."""
    window = config.window
    body_pt, line_height = _sizes(message)
    return (
        layout_environment()
        .get_template("letter.html.j2")
        .render(
            page=_PAGE,
            page_numbers=page_numbers,
            fonts=FONTS,
            body_pt=body_pt,
            line_height=line_height,
            address_pt=10.5,
            window=window,
            window_top=window.top - _PAGE["top"],
            window_left=window.left - _PAGE["side"],
            return_address=config.return_address.strip(),
            address_lines=address_lines(message),
            date_text=f"{today.day} {today:%B %Y}",
            easy_read=message.easy_read and not message.large_print,
            sentences=_sentences(message.body),
            paragraphs=_paragraphs(message.body),
            formats_line=FORMATS_LINE,
        )
    )


def render_pdf(html: str) -> tuple[bytes, int]:
    """Tagged PDF/UA bytes, in memory, and the page count.

    Runs WeasyPrint, so call it in a thread, never on the loop.
    """
    from weasyprint import HTML  # imported late: loading Pango is slow and only needed here

    document = HTML(string=html, base_url=str(LAYOUT_DIR)).render(pdf_variant="pdf/ua-1")
    return document.write_pdf(pdf_variant="pdf/ua-1"), len(document.pages)


def attachment_pdf(message: OutgoingMessage, today: date) -> bytes:
    """``message.attach_letter`` as a PDF in the letter layout, to go with an email: no
    return address, and "By email" where a posted letter has the address. Runs
    WeasyPrint, so call it in a thread."""
    letter = OutgoingMessage(
        idempotency_key=message.idempotency_key,
        channel=Channel.LETTER,
        to="By email",
        body=message.attach_letter or "",
        recipient_name=message.recipient_name,
        large_print=message.large_print,
        easy_read=message.easy_read,
    )
    config = LetterConfig(Path(), time_zone="UTC")  # only the layout is used
    data, _ = render_pdf(render_letter_html(letter, config, today))
    return data


def write_pdf_atomically(html: str, target: Path) -> int:
    """Render tagged PDF/UA to a temp name, then rename: a crash never leaves half a PDF.

    Returns the page count. Runs WeasyPrint, so call it in a thread, never on the loop.
    """
    data, pages = render_pdf(html)
    _write_bytes(target, data)
    return pages


def _write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temp.replace(target)


class LetterChannel:
    """Writes each letter as a PDF into ``folder/pending`` for the next print batch."""

    kind = Channel.LETTER
    live = True
    lookup_is_conclusive = True  # the PDF exists before send() returns

    def __init__(
        self, config: LetterConfig, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.config = config
        self.limits = ChannelLimits()
        self._clock = clock or (lambda: datetime.now(config.zone))

    @property
    def pending(self) -> Path:
        return self.config.folder / "pending"

    def path_for(self, idempotency_key: str) -> Path:
        return self.pending / f"{file_stem(idempotency_key)}.pdf"

    async def send(self, message: OutgoingMessage) -> Receipt:
        stem = file_stem(message.idempotency_key)
        if await asyncio.to_thread(self._existing, stem) is not None:
            return Receipt(provider_id=letter_id(stem), status=_QUEUED)  # never a second letter
        now = self._clock()
        try:
            html = render_letter_html(message, self.config, now.astimezone(self.config.zone).date())
            await asyncio.to_thread(self._make, message, html, now)
        except (PermanentError, TransientError):
            raise
        except Exception as exc:  # a rendering bug is ours: keep the message, retry after a fix
            raise TransientError(f"the letter could not be made: {type(exc).__name__}") from exc
        return Receipt(provider_id=letter_id(stem), status=_QUEUED)

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """Posted the next working day, in hand three working days later."""
        return letter_arrival(send_at, self.config.time_zone)

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        stem = file_stem(idempotency_key)
        found = await asyncio.to_thread(self._existing, stem)
        return None if found is None else Receipt(provider_id=letter_id(stem), status=_QUEUED)

    async def aclose(self) -> None:
        return None

    def _existing(self, stem: str) -> Path | None:
        """The letter's PDF, whether still pending or already moved into a print batch."""
        pending = self.pending / f"{stem}.pdf"
        if pending.exists():
            return pending
        return next((self.config.folder / "batches").glob(f"*/{stem}.pdf"), None)

    def _make(self, message: OutgoingMessage, html: str, now: datetime) -> None:
        target = self.path_for(message.idempotency_key)
        sidecar = {
            "idempotency_key": message.idempotency_key,
            "recipient_name": message.recipient_name,
            "created_at": now.isoformat(timespec="seconds"),
        }
        # Both versions are made in memory and only the chosen one is written, once: a
        # print batch picking up pending/ in between must never find a first draft.
        data, pages = self._render_pdf(html)
        if pages > 1:  # page numbers only help when there is more than one page
            today = now.astimezone(self.config.zone).date()
            numbered = render_letter_html(message, self.config, today, page_numbers=True)
            data, _ = self._render_pdf(numbered)
        # The sidecar first: the PDF is the proof of sending, so it is written last.
        _write_bytes(target.with_suffix(".json"), json.dumps(sidecar, indent=2).encode())
        _write_bytes(target, data)

    def _render_pdf(self, html: str) -> tuple[bytes, int]:
        return render_pdf(html)
