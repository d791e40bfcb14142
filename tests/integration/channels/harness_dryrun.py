"""The recording fake everyone else is measured against: files in a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.base import OutgoingMessage, PermanentError, Receipt, TransientError
from channels.dryrun import DryRunChannel
from store.enums import Channel
from tests.integration.channels.harness import Failure, Received

HARNESS = "dryrun_harness"


class _FailingDryRun(DryRunChannel):
    """The dry-run channel, with the failures a provider can give, for the contract."""

    def __init__(self, folder: Path) -> None:
        super().__init__(Channel.SMS, folder)
        self.next_failure: Failure | None = None

    async def send(self, message: OutgoingMessage) -> Receipt:
        failure, self.next_failure = self.next_failure, None
        if failure == "transient":
            raise TransientError("disk busy")
        if failure == "permanent":
            raise PermanentError("no such recipient")
        if failure == "opt_out":
            raise PermanentError("recipient opted out", opt_out_reason="replied STOP")
        return await super().send(message)


class DryRunHarness:
    def __init__(self, folder: Path) -> None:
        self.channel = _FailingDryRun(folder)
        self.folder = folder

    def address(self) -> str:
        return "+447123456789"

    def received(self) -> list[Received]:
        out = []
        for path in sorted(self.folder.glob("*")):
            header, _, body = path.read_text(encoding="utf-8").partition("\n\n")
            to = next(line[4:] for line in header.splitlines() if line.startswith("To: "))
            out.append(Received(to=to, text=body.strip()))
        return out

    def fail_next(self, failure: Failure) -> None:
        self.channel.next_failure = failure


@pytest.fixture
def dryrun_harness(tmp_path: Path) -> DryRunHarness:
    return DryRunHarness(tmp_path / "dryrun")
