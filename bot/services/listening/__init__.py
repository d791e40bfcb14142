"""Listening: every message from outside is stored, understood and, where it matters,
put in front of a person.

The machine's own part is small on purpose (R-2.8): keywords (STOP, START, PAUSE, HELP,
CALL), answers to the question we last asked, and the crisis routing. Anything else is
kept for the link worker, with at most one line back saying they will read it.

A worrying reply (distress words, or a low check-in score) opens an urgent task, queues an
alert to the link worker (or their cover while they are away) and sends the support lines
that are open now, once; then the machine stays quiet towards that person until someone
has looked (``Expert.held_since``).

Everything here runs in the caller's transaction. Answers are returned, not sent, so a
duplicate delivery that loses the race on the unique provider reference rolls back
without anyone hearing from us twice.

Read it in this order: ``inbound`` (what arrives, what comes back), ``hear`` (the
transaction and the retry), ``dispatch`` (which rule a reply meets), then the rules:
``strangers``, ``worrying``, ``keywords``, ``answers``; ``turn`` is what they share.
"""

from bot.services.listening.hear import hear, receive
from bot.services.listening.inbound import Heard, Inbound, Listening, sender_key

__all__ = ["Heard", "Inbound", "Listening", "hear", "receive", "sender_key"]
