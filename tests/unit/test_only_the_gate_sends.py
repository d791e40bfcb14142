"""Only the gate (scheduling/sending/gate.py) hands words to a channel.

Every word an expert reads must meet one set of rules: consent, STOP, withdrawal, the hold,
safe times and the discreet word list. A second caller of a channel's ``send`` would be a
way round them, so this test reads every module of ``bot`` and ``scheduling`` and fails on
any call of ``.send(...)`` or ``.send_message(...)`` outside the list below, each with why.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEND_NAMES = {"send", "send_message"}

ALLOWED = {
    ("scheduling/sending/gate.py", "send"): "the gate itself: the one call, after its checks",
    ("scheduling/people/staff_alerts.py", "send"): (
        "alerts go to staff on their own alert route, never to an expert"
    ),
    ("bot/web/webhooks/telegram_app.py", "send_message"): (
        "delivers the answer to a chat message that the gate already allowed in "
        "listening (Turn.say); Twilio's answer goes back as TwiML the same way"
    ),
}


def _is_the_gate(receiver: ast.expr) -> bool:
    """``gate.send(...)`` or ``self.gate.send(...)``: going through the gate is the point."""
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return name == "gate"


def send_calls() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for package in ("bot", "scheduling"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in SEND_NAMES
                    and not _is_the_gate(node.func.value)
                ):
                    found.add((path.relative_to(ROOT).as_posix(), node.func.attr))
    return found


def test_nothing_but_the_gate_calls_a_channels_send() -> None:
    outside = sorted(send_calls() - set(ALLOWED))
    assert outside == [], (
        f"{outside} call a channel's send outside the gate: send through "
        "scheduling.sending.gate.Gate.send so consent, STOP, the hold and the discreet "
        "words are checked"
    )


def test_every_allowed_caller_still_exists() -> None:
    # A stale entry would let a new caller in the same file slip through unnoticed.
    assert set(ALLOWED) <= send_calls()
