"""A message taken as far as a committed try and no further: the state a worker leaves
when it dies, or its batch fails, just before the provider is called."""

from __future__ import annotations

from scheduling.clock import SimulatedClock
from scheduling.rules.decisions import Limits, Send, decide
from scheduling.sending.dispatch_types import Ready
from scheduling.sending.dispatcher import Dispatcher
from scheduling.sending.outbox import claim_due, load_message
from scheduling.sending.recording import record_tries


async def claim_and_try_first(
    dispatcher: Dispatcher, clock: SimulatedClock, *, limit: int = 10
) -> tuple[list[int], Ready]:
    """Claim up to ``limit`` due messages for this dispatcher's worker, then decide,
    prepare and commit the first one's try exactly as a batch does: (the ids claimed,
    what is ready to go)."""
    config = dispatcher.config
    ids = await claim_due(
        dispatcher.sessions, worker=config.worker, now=clock.now(), limit=limit, lease=config.lease
    )
    async with dispatcher.sessions.begin() as session:
        message = await load_message(session, ids[0])
        assert message is not None
        decision = decide(message, dispatcher.channels, Limits(), clock.now())
        assert isinstance(decision, Send)
        plan = await dispatcher._prepare(session, message, decision, clock.now())
        assert plan is not None
        [ready] = await record_tries(session, [plan])
    return ids, ready
