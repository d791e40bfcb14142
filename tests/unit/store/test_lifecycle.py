"""A message moves only along its lifecycle; a wrong move is a bug, caught loudly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.enums import FINAL_STATUSES, IllegalTransition, MessageStatus, can_move
from store.models import Message

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_a_final_status_never_changes(final: MessageStatus) -> None:
    assert not any(can_move(final, other) for other in MessageStatus)


def test_an_uncertain_message_is_never_sent_again_automatically() -> None:
    assert not can_move(MessageStatus.UNCERTAIN, MessageStatus.PENDING)
    assert not can_move(MessageStatus.UNCERTAIN, MessageStatus.SENDING)


def test_a_pending_message_cannot_jump_to_sent_without_being_claimed() -> None:
    message = Message(status=MessageStatus.PENDING)
    with pytest.raises(IllegalTransition):
        message.move(MessageStatus.SENT, None, NOW)


def test_leaving_sending_releases_the_lease() -> None:
    message = Message(status=MessageStatus.SENDING, claimed_by="w1", lease_until=NOW)
    message.move(MessageStatus.SENT, "accepted", NOW)
    assert message.claimed_by is None and message.lease_until is None
