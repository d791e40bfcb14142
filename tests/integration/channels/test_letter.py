"""The letter channel, checked from the PDF it makes and the HTML it renders.

The contract suite covers sending, failures and lookup; these are the letter's own
promises: the window shows the right person, nothing reveals who wrote or why, the page
is A4 and tagged, and the access formats really are bigger and simpler.
"""

from __future__ import annotations

import re
import stat
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from channels.base import OutgoingMessage, PermanentError
from channels.letter import FORMATS_LINE, LetterChannel, LetterConfig, render_letter_html
from store.enums import Channel
from tests.integration.channels.harness_letter import window_text

ROOT = Path(__file__).resolve().parents[3]
LONDON = ZoneInfo("Europe/London")
ADDRESS = "Flat 2\n8 Sample Road\nDundee DD1 1AA"
BODY = (
    "Hi Ana, it's Sam. Just a note that Tuesday is coming up.\n\n"
    "We meet at the library at ten. Bring nothing but yourself."
)


def message(key: str = "eng1:exp1:pre_brief", **changes: object) -> OutgoingMessage:
    base = OutgoingMessage(
        idempotency_key=key,
        channel=Channel.LETTER,
        to=ADDRESS,
        body=BODY,
        recipient_name="Ana Morrison",
        sender_name="Sam",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def config(tmp_path: Path) -> LetterConfig:
    return LetterConfig(
        folder=tmp_path / "letters",
        return_address="PO Box 99, Dundee DD1 9ZZ",
        time_zone="Europe/London",
    )


@pytest.fixture
def channel(config: LetterConfig) -> LetterChannel:
    return LetterChannel(config, clock=lambda: datetime(2026, 3, 16, 10, 0, tzinfo=LONDON))


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


async def test_the_window_shows_the_return_address_name_and_address_only(
    channel: LetterChannel, config: LetterConfig
) -> None:
    await channel.send(message())
    path = channel.path_for("eng1:exp1:pre_brief")
    shown = window_text(path, config.window).splitlines()
    assert shown == ["PO Box 99, Dundee DD1 9ZZ", "Ana Morrison", *ADDRESS.splitlines()]
    page = PdfReader(path).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "16 March 2026" in pdf_text(path)


async def test_the_pdf_is_tagged_with_a_language_and_private_to_us(channel: LetterChannel) -> None:
    await channel.send(message())
    path = channel.path_for("eng1:exp1:pre_brief")
    catalog = PdfReader(path).trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog and catalog["/Lang"] == "en"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.with_suffix(".json").stat().st_mode) == 0o600
    assert not list(path.parent.glob(".*.tmp"))  # no half-written file left behind


async def test_a_neutral_letter_carries_no_word_that_gives_it_away(
    channel: LetterChannel,
) -> None:
    await channel.send(message())
    text = pdf_text(channel.path_for("eng1:exp1:pre_brief")).lower()
    words = (ROOT / "templates" / "discreet_blocked_words.txt").read_text(encoding="utf-8")
    blocked = [w.strip().lower() for w in words.splitlines() if w.strip() and w[0] != "#"]
    assert [w for w in blocked if w in text] == []
    assert FORMATS_LINE.lower() in " ".join(text.split())


def _sizes(html: str) -> set[float]:
    return {float(n) for n in re.findall(r"font-size:\s*([\d.]+)pt", html)}


def test_clear_print_is_14pt_and_large_print_18pt_with_nothing_smaller_in_the_body(
    config: LetterConfig,
) -> None:
    today = date(2026, 3, 16)
    normal = render_letter_html(message(), config, today)
    large = render_letter_html(message(large_print=True), config, today)
    assert "font-size: 14pt" in normal
    body_sizes = _sizes(large) - {10.5, 7.0}  # only the window address is smaller
    assert min(body_sizes) >= 16 and "font-size: 18pt" in large
    assert "line-height: 1.5" in large
    for html in (normal, large):
        assert "font-style: normal" in html and "text-align: left" in html
        assert "font-style: italic" not in html and "text-transform: uppercase" not in html
        assert 'font-family: Arial, "Liberation Sans", "DejaVu Sans", sans-serif' in html
        assert '<html lang="en">' in html and "<title>Letter</title>" in html


async def test_easy_read_puts_one_sentence_per_line_beside_a_picture_slot(
    channel: LetterChannel, config: LetterConfig
) -> None:
    html = render_letter_html(message(easy_read=True), config, date(2026, 3, 16))
    assert html.count('class="picture"') == 4 and "font-size: 16pt" in html
    await channel.send(message(easy_read=True))
    lines = pdf_text(channel.path_for("eng1:exp1:pre_brief")).splitlines()
    assert "We meet at the library at ten." in lines
    assert "Bring nothing but yourself." in lines


@pytest.mark.parametrize(
    "address",
    ["", "  \n ", "\n".join(f"Line {n}" for n in range(8)), "Flat 2\n" + "Long road " * 5],
)
async def test_an_address_that_cannot_fit_the_window_is_refused(
    channel: LetterChannel, address: str
) -> None:
    with pytest.raises(PermanentError):
        await channel.send(message(to=address))
    assert not list(channel.pending.glob("*.pdf")) if channel.pending.exists() else True


async def test_sending_the_same_letter_twice_makes_one_file(channel: LetterChannel) -> None:
    first = await channel.send(message())
    path = channel.path_for("eng1:exp1:pre_brief")
    written = path.stat().st_mtime_ns
    again = await channel.send(message(body="A different body, must not replace the first."))
    assert again == first and path.stat().st_mtime_ns == written
    assert len(list(channel.pending.glob("*.pdf"))) == 1
    assert await channel.lookup("eng1:exp1:pre_brief") == first


async def test_a_letter_moved_into_a_batch_is_still_found(channel: LetterChannel) -> None:
    receipt = await channel.send(message())
    batch = channel.config.folder / "batches" / "2026-03-16-1"
    batch.mkdir(parents=True)
    path = channel.path_for("eng1:exp1:pre_brief")
    path.replace(batch / path.name)
    assert await channel.lookup("eng1:exp1:pre_brief") == receipt
    assert await channel.send(message()) == receipt
    assert not path.exists()


def test_a_letter_handed_over_before_good_friday_arrives_after_easter_monday(
    channel: LetterChannel,
) -> None:
    # Thursday 2 April 2026: Good Friday is no posting day (Easter Monday is not a Scottish
    # bank holiday), so it is posted Monday 6 and in hand three working days later, on
    # Thursday 9 (second class is delivered Monday to Friday since July 2025).
    handed_over = datetime(2026, 4, 2, 15, 0, tzinfo=UTC)
    assert channel.earliest_arrival(handed_over).date() == date(2026, 4, 9)


async def test_a_long_letter_is_written_to_pending_once_with_page_numbers(
    channel: LetterChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A print batch reading pending/ between two writes would print the letter twice."""
    import channels.letter as letter_module

    writes: list[str] = []
    real_write = letter_module._write_bytes

    def counting_write(target: Path, data: bytes) -> None:
        writes.append(target.name)
        real_write(target, data)

    monkeypatch.setattr(letter_module, "_write_bytes", counting_write)
    long_body = "\n\n".join(f"Paragraph {n}. " + "Words to fill the page. " * 12 for n in range(30))
    await channel.send(message(body=long_body))
    path = channel.path_for("eng1:exp1:pre_brief")
    assert writes.count(path.name) == 1
    assert writes.index(path.with_suffix(".json").name) < writes.index(path.name)
    pages = PdfReader(path).pages
    assert len(pages) > 1
    assert f"Page 1 of {len(pages)}" in pages[0].extract_text()
    assert sorted(p.name for p in channel.pending.iterdir()) == sorted(
        [path.name, path.with_suffix(".json").name]
    )  # no temp file or first draft left behind
