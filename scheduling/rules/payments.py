"""The rules of money, pure: reading an amount a person typed, writing it as people do
(£12.50), what an engagement's offer makes owed, and which moves a ledger line may make.

Amounts are whole pence everywhere. A typed amount is refused when it is not a sum of
money, is negative, or is beyond what any one line could sensibly be (a typo in pence);
the refusal says which, so a person can put it right.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from store.enums import (
    EXPENSES,
    PAYMENT_MOVES,
    OfferKind,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from store.errors import Refused

# One line above this is almost certainly a mistake (pence typed as pounds, an extra 0).
MOST_PENCE = 200_000  # £2,000
_AMOUNT = re.compile(r"^£?\s*(\d{1,7}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?$")


class PaymentError(Refused):
    """A payment step refused, with the sentence that says why."""


def parse_amount(text: object, *, field_name: str = "amount") -> int:
    """Pence from "12.50", "£12.50", "12" or "1,200"; refuses anything else, clearly."""
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise PaymentError("Enter an amount, for example 12.50", field=field_name)
    if raw.startswith("-") or raw.startswith("£-"):
        raise PaymentError("An amount cannot be less than nothing", field=field_name)
    match = _AMOUNT.match(raw)
    if match is None:
        raise PaymentError(
            f"{raw[:20]!r} is not an amount of money: write it like 12.50", field=field_name
        )
    try:
        pence = int(Decimal(raw.lstrip("£").strip().replace(",", "")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only numbers
        raise PaymentError("That is not an amount of money", field=field_name) from None
    if pence > MOST_PENCE:
        raise PaymentError(
            f"{pounds(pence)} is more than any one payment here can be "
            f"({pounds(MOST_PENCE)}): check the amount",
            field=field_name,
        )
    return pence


def check_pence(pence: int, *, field_name: str = "amount") -> int:
    """The same limits for an amount that arrives as pence (a CSV, a test, an offer)."""
    if pence < 0:
        raise PaymentError("An amount cannot be less than nothing", field=field_name)
    if pence > MOST_PENCE:
        raise PaymentError(
            f"{pounds(pence)} is more than any one payment here can be: check the amount",
            field=field_name,
        )
    return pence


def pounds(pence: int) -> str:
    """£12.50, £1,200.00, £0.00: how people write money."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def can_move(current: PaymentStatus, new: PaymentStatus) -> bool:
    return new in PAYMENT_MOVES.get(current, frozenset())


@dataclass(frozen=True)
class Offer:
    """What an engagement gives people for their time, and which costs it covers."""

    kind: OfferKind = OfferKind.NONE
    pence: int = 0  # per session, per hour, or the voucher's value
    expenses: tuple[PaymentPurpose, ...] = ()
    limit_pence: int | None = None  # most paid for any one expense

    def time_owed(self, length: timedelta) -> int:
        """What attending owes for time: a session's fee, or hours (to the quarter hour,
        rounded up: nobody is paid less for staying longer) times the hourly fee."""
        if self.kind is OfferKind.NONE:
            return 0
        if self.kind is OfferKind.PER_HOUR:
            quarters = -(-int(length.total_seconds()) // 900)
            return self.pence * quarters // 4
        return self.pence

    def covers(self, purpose: PaymentPurpose) -> bool:
        return purpose in self.expenses

    def sentences(self) -> list[str]:
        """The offer in plain words for the advance information (no amounts of others)."""
        said: list[str] = []
        if self.kind is OfferKind.PER_SESSION:
            said.append(f"You will be paid {pounds(self.pence)} for your time.")
        elif self.kind is OfferKind.PER_HOUR:
            said.append(f"You will be paid {pounds(self.pence)} an hour for your time.")
        elif self.kind is OfferKind.VOUCHER:
            said.append(f"You will get a {pounds(self.pence)} voucher to thank you for your time.")
        if self.expenses:
            names = [EXPENSE_WORDS[p] for p in self.expenses]
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            limit = f", up to {pounds(self.limit_pence)} each" if self.limit_pence else ""
            said.append(f"We pay back {listed}{limit}.")
        return said


EXPENSE_WORDS: dict[PaymentPurpose, str] = {
    PaymentPurpose.TRAVEL: "travel",
    PaymentPurpose.CHILDCARE: "childcare",
    PaymentPurpose.CARER: "a carer or support worker",
    PaymentPurpose.MEALS: "meals",
    PaymentPurpose.OTHER: "other costs we agree with you",
}


def offer_from(data: dict[str, object] | None) -> Offer:
    """An offer kept as settings data; anything unreadable is no offer, never a guess."""
    if not data:
        return Offer()
    try:
        kind = OfferKind(str(data.get("kind", "none")))
        pence = check_pence(int(str(data.get("pence", 0))))
        raw = data.get("expenses") or []
        expenses = (
            tuple(PaymentPurpose(str(e)) for e in raw if str(e) in {p.value for p in EXPENSES})
            if isinstance(raw, list)
            else ()
        )
        limit = data.get("limit_pence")
        limit_pence = check_pence(int(str(limit))) if limit not in (None, "") else None
    except (ValueError, Refused):
        return Offer()
    return Offer(kind, pence, expenses, limit_pence)


def offer_data(offer: Offer) -> dict[str, object]:
    return {
        "kind": offer.kind.value,
        "pence": offer.pence,
        "expenses": [e.value for e in offer.expenses],
        "limit_pence": offer.limit_pence,
    }


@dataclass(frozen=True)
class PaymentChoice:
    """How a person chose to be paid. ``method`` None means nobody has asked them yet."""

    method: PaymentMethod | None = None
    voucher_kind: str = ""
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def stored(self) -> str:
        """The text kept (encrypted) in ``Expert.payment_preference``."""
        return json.dumps(
            {
                "method": self.method.value if self.method else None,
                "voucher_kind": self.voucher_kind,
                "note": self.note,
            },
            sort_keys=True,
        )

    @property
    def pays_money(self) -> bool:
        """False when they asked not to be paid, or to talk first (benefits): no payment
        goes out until a person has spoken with them."""
        return self.method in (PaymentMethod.BANK_TRANSFER, PaymentMethod.VOUCHER)


def read_choice(stored: str | None) -> PaymentChoice:
    """The stored choice; a free-text preference from before it was structured becomes
    the note, with the method left for a person to ask (never guessed from the words)."""
    if not stored:
        return PaymentChoice()
    try:
        data = json.loads(stored)
    except ValueError:
        return PaymentChoice(note=stored)
    if not isinstance(data, dict) or "method" not in data:
        return PaymentChoice(note=stored)
    try:
        method = PaymentMethod(data["method"]) if data["method"] else None
    except ValueError:
        method = None
    return PaymentChoice(method, str(data.get("voucher_kind") or ""), str(data.get("note") or ""))
