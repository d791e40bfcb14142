"""A channel that writes each message to a file instead of sending it.

Used by the demo, in development, and for any channel without credentials. One file per
message, named by its idempotency key, so a repeat send is visible and a crash can be
reconciled by looking for the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from channels.base import ChannelLimits, OutgoingMessage, PermanentError, Receipt
from channels.working_days import letter_arrival
from store.enums import Channel

_SUFFIX = {Channel.LETTER: ".letter.txt"}


def _file_stem(idempotency_key: str) -> str:
    # Keys are ours and safe, but never let a key escape the folder.
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in idempotency_key)[:80]
    return f"{safe}-{digest}"


class DryRunChannel:
    live = False
    lookup_is_conclusive = True  # the file is written before send() returns

    def __init__(
        self,
        kind: Channel,
        folder: Path,
        limits: ChannelLimits | None = None,
        *,
        formatter: Callable[[OutgoingMessage], bytes] | None = None,
        suffix: str | None = None,
        postal_tz: str | None = None,
    ) -> None:
        """``formatter`` writes the exact bytes a live channel would send (an .eml);
        ``postal_tz`` is the postal service's zone, which a letter needs for its timing."""
        if kind is Channel.LETTER and postal_tz is None:
            raise ValueError("a dry-run letter channel needs the postal service's time zone")
        self.kind = kind
        self.postal_tz = postal_tz
        self.limits = limits or ChannelLimits(has_subject=kind is Channel.EMAIL)
        self.folder = folder
        self.formatter = formatter
        self.suffix = suffix or _SUFFIX.get(kind, ".txt")

    def path_for(self, idempotency_key: str) -> Path:
        return self.folder / f"{_file_stem(idempotency_key)}{self.suffix}"

    async def send(self, message: OutgoingMessage) -> Receipt:
        if not message.to.strip():
            raise PermanentError("no address to send to")
        path = self.path_for(message.idempotency_key)
        receipt = Receipt(provider_id=f"dryrun-{path.stem[-12:]}", status="written")
        if await asyncio.to_thread(path.exists):
            return receipt  # written before (a retry after a crash): the first file stands
        data = self.formatter(message) if self.formatter else self._render(message).encode()
        # A concurrent send of the same message may win the race: still one file.
        with contextlib.suppress(FileExistsError):
            await asyncio.to_thread(self._write, path, data)
        return receipt

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """A dry-run letter keeps the real postal timing, so routing behaves as it will live."""
        if self.kind is Channel.LETTER and self.postal_tz is not None:
            return letter_arrival(send_at, self.postal_tz)
        return send_at

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        path = self.path_for(idempotency_key)
        if await asyncio.to_thread(path.exists):
            return Receipt(provider_id=f"dryrun-{path.stem[-12:]}", status="written")
        return None

    async def aclose(self) -> None:
        return None

    def _render(self, message: OutgoingMessage) -> str:
        lines = [
            f"Channel: {self.kind.value} (dry-run: not sent)",
            f"To: {message.to}",
            f"Written: {datetime.now(UTC).isoformat(timespec='seconds')}",
        ]
        if message.subject:
            lines.append(f"Subject: {message.subject}")
        if message.buttons:  # what the person could tap, for whoever checks the file
            lines.append("Buttons: " + " | ".join(b.label for b in message.buttons))
        return "\n".join([*lines, "", message.body, ""])

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written in full under a temporary name, then linked into place: a crash part-way
        # leaves no half file for lookup() to mistake for a send, and link() refuses to
        # replace a file that exists, so a repeat send never replaces the first.
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".partial-")  # mode 0600
        temporary = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            path.hardlink_to(temporary)
        finally:
            temporary.unlink()
