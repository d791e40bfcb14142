"""A stored payment choice in words, for staff and for the person's own record (never a
raw value): "Voucher: supermarket. They said: prefers paper ones"."""

from __future__ import annotations

from scheduling.rules.payments import read_choice
from scheduling.text.words import label


def choice_words(stored: str | None, missing: str = "Not recorded") -> str:
    choice = read_choice(stored)
    said = []
    if choice.method is not None:
        said.append(
            label(choice.method) + (f": {choice.voucher_kind}" if choice.voucher_kind else "")
        )
    if choice.note:
        said.append(f"They said: {choice.note}" if choice.method else choice.note)
    return ". ".join(said) or missing
