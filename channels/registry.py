"""Builds the channels that are configured, keyed by kind; nothing is built at import."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from channels.base import ChannelLimits, MessageChannel
from store.enums import Channel

# Phone is not sent by a machine: the dispatcher turns it into a task for a person.
SENDABLE = (Channel.SMS, Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER)

DEFAULT_LIMITS = {
    Channel.SMS: ChannelLimits(max_body_chars=480),
    Channel.TELEGRAM: ChannelLimits(max_body_chars=4096),
    Channel.EMAIL: ChannelLimits(has_subject=True),
    Channel.LETTER: ChannelLimits(),
}


class ChannelRegistry(Mapping[Channel, MessageChannel]):
    def __init__(self, channels: Iterable[MessageChannel]) -> None:
        self._channels = {c.kind: c for c in channels}

    def __getitem__(self, kind: Channel) -> MessageChannel:
        return self._channels[kind]

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)

    async def aclose(self) -> None:
        for channel in self._channels.values():
            await channel.aclose()
