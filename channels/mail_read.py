"""One email from the replies mailbox, read into what listening needs.

Nothing here may fail on a message, however it is made: a missing sender, broken MIME, a
charset nobody knows, HTML only, a huge body. What cannot be read is said in ``problem``
and the message is still handed on, so a person sees it; it is never dropped. Files
attached are counted and never kept.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import Protocol

from channels.mail_text import html_to_text, reply_text

# The right-hand side of every Message-ID we set, so a reply's references can be told apart.
MESSAGE_ID_DOMAIN = "linkline.invalid"
MAX_TEXT_CHARS = 20_000  # far beyond any reply; the rest of a huge body is left in the mailbox
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_TOKEN = re.compile(r"^[^+@\s]+\+([0-9a-f]{32})@", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def message_id_for(token: str) -> str:
    """The Message-ID of ours that a reply token stands for (the token is its digest)."""
    return f"<{token.lower()}@{MESSAGE_ID_DOMAIN}>"


def token_of(message_id: str) -> str:
    """The reply token for one of our Message-IDs: the digest before the @."""
    return message_id.strip("<>").split("@", 1)[0]


@dataclass(frozen=True)
class RawMail:
    """One message as the mailbox holds it; ``truncated`` when only its start was fetched."""

    uid: str
    data: bytes
    truncated: bool = False


class Mailbox(Protocol):
    """A replies mailbox: what is new, each message, and marking one as handled."""

    async def new_messages(self) -> list[str]: ...

    async def fetch(self, uid: str) -> RawMail: ...

    async def mark_handled(self, uid: str) -> None: ...


@dataclass(frozen=True)
class IncomingMail:
    """What one email said, as far as it could be read."""

    ref: str  # its Message-ID, or a digest of the whole message when it has none
    sender: str | None  # the From address, lower case; None when there is none to read
    text: str  # what they wrote, without quoted history or signature
    subject: str
    references: tuple[str, ...]  # In-Reply-To first, then References, newest first
    tokens: tuple[str, ...]  # reply tokens found in the addresses it was sent to
    attachments: int
    automatic: bool  # an out-of-office or a bounce: never answered, so no mail loops
    problem: str | None = None  # why it could not be read properly, in plain words

    def ours(self) -> tuple[str, ...]:
        """Message-IDs of ours it answers, the likeliest first: the token in the address
        it was sent to, then In-Reply-To, then References."""
        named = [message_id_for(token) for token in self.tokens] + list(self.references)
        return tuple(dict.fromkeys(i for i in named if i.endswith(f"@{MESSAGE_ID_DOMAIN}>")))


def read_mail(raw: RawMail) -> IncomingMail:
    """Whatever can be read of it; never raises on what a sender made."""
    try:
        return _read(raw)
    except Exception:  # the parser is lenient; this is for what it still cannot take
        return _unreadable(raw, "its structure could not be read")


def _read(raw: RawMail) -> IncomingMail:
    message = message_from_bytes(raw.data, policy=policy.default)
    problems: list[str] = []
    if raw.truncated:
        problems.append("it was too large, so only its start was read")
    if message.defects:
        problems.append("it was not put together properly")
    text, attachments, text_problem = _body(message)
    if text_problem:
        problems.append(text_problem)
    sender = _header_address(message, "From")
    if sender is None:
        problems.append("it had no sender address we could read")
    return IncomingMail(
        ref=_ref(message, raw.data),
        sender=sender,
        text=_typeable(reply_text(text)[:MAX_TEXT_CHARS]) if text else "",
        subject=_header(message, "Subject")[:200],
        references=_references(message),
        tokens=_tokens(message),
        attachments=attachments,
        automatic=_automatic(message),
        problem="; ".join(problems) or None,
    )


def _unreadable(raw: RawMail, why: str) -> IncomingMail:
    return IncomingMail(
        ref=_digest(raw.data),
        sender=None,
        text=_typeable(raw.data[:MAX_TEXT_CHARS].decode("utf-8", "replace")),
        subject="",
        references=(),
        tokens=(),
        attachments=0,
        automatic=False,
        problem=why,
    )


def _body(message: Message) -> tuple[str, int, str | None]:
    """The text they wrote (plain preferred, HTML made plain), and how many files came."""
    plain: list[str] = []
    markup: list[str] = []
    attachments = 0
    problem = None
    for part in _leaves(message):
        kind = part.get_content_type()
        if _is_attachment(part):
            attachments += 1
            continue
        if kind not in ("text/plain", "text/html"):
            if part.get_content_maintype() not in ("multipart", "message"):
                attachments += 1
            continue
        text, readable = _decoded(part)
        if not readable:
            problem = "part of it was in a character set we could not read"
        (plain if kind == "text/plain" else markup).append(text)
    if plain and any(t.strip() for t in plain):
        return "\n".join(plain), attachments, problem
    if markup:
        return html_to_text("\n".join(markup)), attachments, problem
    return "", attachments, problem


def _leaves(message: Message) -> list[Message]:
    try:
        return [part for part in message.walk() if not part.is_multipart()]
    except Exception:
        return [] if message.is_multipart() else [message]


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        return False
    return disposition == "attachment" or (
        disposition == "inline" and part.get_filename() is not None
    )


def _decoded(part: Message) -> tuple[str, bool]:
    """The part's text. An unknown or wrong charset falls back to UTF-8 with
    replacements, then Latin-1, which never fails: a word may look odd, nothing is lost."""
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content, "\ufffd" not in content  # bytes the charset could not map
        except Exception:
            pass
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else str(part.get_payload()).encode()
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("latin-1"), False


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _header_address(message: Message, name: str) -> str | None:
    addresses = _addresses(message, (name,))
    if len(addresses) != 1 or "@" not in addresses[0]:
        return None
    return addresses[0]


def _addresses(message: Message, names: tuple[str, ...]) -> list[str]:
    values: list[str] = []
    for name in names:
        try:
            values += [str(v) for v in message.get_all(name) or []]
        except Exception:
            continue
    try:
        parsed = getaddresses(values)
    except Exception:
        return []
    return [address.strip().lower() for _, address in parsed if address.strip()]


def _references(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        ids = _MESSAGE_ID.findall(_header(message, name))
        found += reversed(ids) if name == "References" else ids
    return tuple(dict.fromkeys(f"<{i}>" for i in found))[:20]


def _tokens(message: Message) -> tuple[str, ...]:
    addresses = _addresses(message, _RECIPIENT_HEADERS)
    matches = (_TOKEN.match(address) for address in addresses)
    return tuple(dict.fromkeys(m.group(1).lower() for m in matches if m))


def _automatic(message: Message) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    return (
        (bool(auto) and auto != "no")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(_header(message, "X-Autoreply") or _header(message, "X-Autorespond"))
        or message.get_content_type() == "multipart/report"
        or _header(message, "Return-Path") == "<>"
    )


def _typeable(text: str) -> str:
    """No NUL or other control characters (PostgreSQL refuses NUL); lines and tabs stay."""
    return _CONTROL.sub("", text)


def _ref(message: Message, data: bytes) -> str:
    found = _MESSAGE_ID.search(_header(message, "Message-ID"))
    return f"<{found.group(1)}>" if found else _digest(data)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
