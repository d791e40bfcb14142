"""Money as people type and read it: amounts refused clearly, pence exact, offers owed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.rules.payments import (
    MOST_PENCE,
    Offer,
    PaymentChoice,
    PaymentError,
    offer_data,
    offer_from,
    parse_amount,
    pounds,
    read_choice,
)
from store.enums import OfferKind, PaymentMethod, PaymentPurpose


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("12.50", 1250), ("£12.50", 1250), ("12", 1200), ("0.5", 50), ("1,200", 120_000), ("0", 0)],
)
def test_amounts_people_type_are_read_to_the_penny(typed: str, pence: int) -> None:
    assert parse_amount(typed) == pence


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("-5", "less than nothing"),
        ("£-5", "less than nothing"),
        ("twelve", "not an amount of money"),
        ("12.505", "not an amount of money"),
        ("1e3", "not an amount of money"),
        ("NaN", "not an amount of money"),
        ("", "Enter an amount"),
        ("2000.01", "more than any one payment"),
        ("99999999", "more than any one payment"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_line(typed: str, words: str) -> None:
    with pytest.raises(PaymentError, match=words) as refused:
        parse_amount(typed)
    assert "None" not in refused.value.plain


@given(st.integers(0, MOST_PENCE))
def test_an_amount_written_out_reads_back_to_the_same_pence(pence: int) -> None:
    assert parse_amount(pounds(pence)) == pence


def test_amounts_are_shown_as_people_write_them() -> None:
    assert [pounds(p) for p in (1250, 5, 0, 120_000)] == ["£12.50", "£0.05", "£0.00", "£1,200.00"]


def test_time_owed_follows_the_offer() -> None:
    hour_and_a_bit = timedelta(hours=1, minutes=20)
    assert Offer(OfferKind.PER_SESSION, 2500).time_owed(hour_and_a_bit) == 2500
    # Paid to the quarter hour, rounded up: an hour and twenty minutes is an hour and a half.
    assert Offer(OfferKind.PER_HOUR, 2000).time_owed(hour_and_a_bit) == 3000
    assert Offer(OfferKind.NONE, 0).time_owed(hour_and_a_bit) == 0


def test_an_offer_reads_in_plain_words_and_survives_storage() -> None:
    offer = Offer(OfferKind.VOUCHER, 2000, (PaymentPurpose.TRAVEL, PaymentPurpose.CHILDCARE), 3000)
    assert offer.sentences() == [
        "You will get a £20.00 voucher to thank you for your time.",
        "We pay back travel and childcare, up to £30.00 each.",
    ]
    assert offer_from(offer_data(offer)) == offer
    assert offer_from({"kind": "bribe", "pence": "lots"}) == Offer()


def test_a_payment_choice_is_kept_structured_and_an_old_free_text_is_only_a_note() -> None:
    choice = PaymentChoice(PaymentMethod.VOUCHER, "supermarket", "prefers paper")
    assert read_choice(choice.stored()) == choice
    assert read_choice("cash please") == PaymentChoice(note="cash please")  # never guessed
    assert read_choice(None) == PaymentChoice()
    assert not PaymentChoice(PaymentMethod.TALK_FIRST).pays_money


@pytest.mark.parametrize("text", ["PAID?", "paid", "Have I been paid?", "payment sent?"])
def test_paid_is_a_keyword_whatever_we_last_asked(text: str) -> None:
    from scheduling.rules.distress import DistressWords
    from scheduling.rules.intents import Asked, Intent, understand

    for asked in Asked:
        assert understand(text, asked, DistressWords.load()).intent is Intent.PAID


def test_a_payment_choice_reads_in_words_never_as_stored() -> None:
    from scheduling.text.payment_words import choice_words

    voucher = PaymentChoice(PaymentMethod.VOUCHER, "supermarket", "paper ones").stored()
    assert choice_words(voucher) == "Voucher: supermarket. They said: paper ones"
    assert choice_words("cash please") == "cash please"
    assert choice_words(None) == "Not recorded"
