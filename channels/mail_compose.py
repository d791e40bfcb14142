"""The bytes of one email, written directly: headers, a plain part, an HTML copy, and an
optional calendar invitation and attachments.

Every email Linkline sends has the same few shapes, so it is written here as bytes in
the form Python's ``email`` package gives it (the same headers, parts, boundaries and
transfer encodings), without that package's header registry, which parses every header
again as it is set and was most of an email's cost. Headers that need more than plain
ASCII on one short line (a name with an accent, a long subject) are folded by the
standard library itself. Only 7-bit transfer encodings are used, so the message is the
same whatever the server offers.
"""

from __future__ import annotations

import binascii
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy, quoprimime

_CRLF = "\r\n"
_MAX_LINE = 78  # the email policy's line length: where a header folds, a body is encoded
_BOUNDARY_WIDTH = len(repr(sys.maxsize - 1))


@dataclass(frozen=True)
class Attachment:
    """A file shown as an attachment, e.g. ``invite.ics`` or ``letter.pdf``."""

    data: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class Invitation:
    """The calendar alternative: the .ics bytes and its METHOD (REQUEST or CANCEL)."""

    ics: bytes
    method: str


def header(name: str, value: str) -> str:
    """One header line with its CRLF. Plain ASCII that fits is written as given; anything
    else (non-ASCII words, a long line) is encoded and folded by the standard library,
    exactly as the email package would."""
    line = f"{name}: {value}"
    if len(line) <= _MAX_LINE and line.isascii():
        return line + _CRLF
    return policy.SMTP.fold(name, value)


def compose(
    headers: Sequence[str],
    text: str,
    html: str,
    invitation: Invitation | None = None,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The whole message, CRLF line ends. ``headers`` are lines from ``header`` (and raw
    address lines), written first and in order; MIME-Version and the structure follow.

    Shape: multipart/alternative (text, HTML, and the invitation if any), inside
    multipart/mixed when there is anything attached."""
    alternatives = [_text_part(text, "plain"), _text_part(html, "html")]
    if invitation is not None:
        alternatives.append(
            _bytes_part(
                invitation.ics,
                f'text/calendar; method="{invitation.method}"; charset="UTF-8"',
            )
        )
    body = _multipart("alternative", alternatives)
    if attachments:
        files = [
            _bytes_part(
                a.data, a.content_type, f'Content-Disposition: attachment; filename="{a.filename}"'
            )
            for a in attachments
        ]
        body = _multipart("mixed", [body, *files])
    return ("".join(headers) + "MIME-Version: 1.0" + _CRLF).encode() + body


def _multipart(subtype: str, parts: Sequence[bytes]) -> bytes:
    """A multipart entity: its Content-Type, then each part after a boundary that none of
    them contains."""
    boundary = _boundary(parts)
    line = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'
    if len(line) > _MAX_LINE:  # as the email package folds it
        line = f'Content-Type: multipart/{subtype};{_CRLF} boundary="{boundary}"'
    delimiter = f"--{boundary}{_CRLF}".encode()
    out = [line.encode(), b"\r\n\r\n"]
    for part in parts:
        out += [delimiter, part, b"\r\n"]
    out.append(f"--{boundary}--{_CRLF}".encode())
    return b"".join(out)


def _boundary(parts: Sequence[bytes]) -> str:
    """The email package's kind of boundary (random, so a body cannot guess it)."""
    while True:
        token = random.randrange(sys.maxsize)  # not a secret: it only has to differ
        boundary = f"{'=' * 15}{token:0{_BOUNDARY_WIDTH}d}=="
        marker = f"--{boundary}".encode()
        if not any(marker in part for part in parts):
            return boundary


def _text_part(text: str, subtype: str) -> bytes:
    encoding, payload = _encode_text(text)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{_CRLF}'
        f"Content-Transfer-Encoding: {encoding}{_CRLF}{_CRLF}"
    )
    return (head + payload.replace("\n", _CRLF)).encode("ascii")


def _bytes_part(data: bytes, content_type: str, *extra: str) -> bytes:
    head = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", *extra]
    return (_CRLF.join(head) + _CRLF + _CRLF + _base64(data).replace("\n", _CRLF)).encode()


def _encode_text(text: str) -> tuple[str, str]:
    """The email package's choice for a UTF-8 text part (7bit, else the shorter of
    quoted-printable and base64 on the first lines), with ``\\n`` line ends; never 8bit,
    so no server extension is needed."""
    lines = text.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= _MAX_LINE:
        plain = b"\n".join(lines) + b"\n"
        if plain.isascii():
            return "7bit", plain.decode("ascii")
    sniff = b"\n".join(lines[:10]) + b"\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), _MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        return "base64", _base64(b"\n".join(lines) + b"\n")
    if len(lines) <= 10:
        return "quoted-printable", sniff_qp
    whole = (b"\n".join(lines) + b"\n").decode("latin-1")
    return "quoted-printable", quoprimime.body_encode(whole, _MAX_LINE)


def _base64(data: bytes) -> str:
    """Base64 in lines of 76 characters, each ending in ``\\n``."""
    step = _MAX_LINE // 4 * 3
    return "".join(
        binascii.b2a_base64(data[i : i + step]).decode("ascii") for i in range(0, len(data), step)
    )
