"""The gate's one decision, rule by rule, on in-memory experts (it reads only what is
loaded): the reasons are what staff will read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scheduling.rules.discreet_words import BlockedWords
from scheduling.rules.gate import Kind, Outbound, check, details_safe
from store.enums import Channel, ExpertStatus, Purpose
from store.models import ChannelConsent, ContactPoint, Expert

DAY = datetime(2026, 3, 17, 11, 0, tzinfo=UTC)  # a Tuesday, 11am in London
NIGHT = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
WORDS = BlockedWords.load()


def ana(
    *,
    allowed: bool = True,
    details: bool = False,
    discreet: bool = True,
    stopped: bool = False,
    held: bool = False,
    status: ExpertStatus = ExpertStatus.ACTIVE,
) -> Expert:
    person = Expert(
        preferred_name="Ana",
        status=status,
        discreet=discreet,
        held_since=DAY if held else None,
        time_zone="Europe/London",
        contact_on_bank_holidays=False,
    )
    person.windows = []
    person.consents = [
        ChannelConsent(
            channel=Channel.SMS,
            allowed=allowed,
            details_safe=details,
            confirmed_on=date(2026, 1, 5),
        )
    ]
    person.contact_points = [
        ContactPoint(
            channel=Channel.SMS,
            value="+447123456789",
            opted_out_at=DAY if stopped else None,
            opt_out_reason="replied STOP" if stopped else None,
        )
    ]
    return person


def answer(text: str = "Thanks, I'll read this myself.", kind: Kind = Kind.ANSWER) -> Outbound:
    return Outbound(kind, Channel.SMS, text, immediate=True)


def planned(text: str, purpose: Purpose = Purpose.PASTORAL) -> Outbound:
    return Outbound(Kind.SCHEDULED, Channel.SMS, text, purpose=purpose)


def test_an_answer_with_consent_goes_even_at_night_since_they_just_wrote() -> None:
    assert check(ana(), answer(), WORDS, NIGHT).allowed


def test_a_planned_message_at_night_is_refused_as_outside_their_safe_times() -> None:
    verdict = check(ana(), planned("Hi Ana"), WORDS, NIGHT)
    assert (verdict.allowed, verdict.reason) == (False, "it is outside their safe times")
    assert check(ana(), planned("Hi Ana"), WORDS, DAY).allowed


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        (ana(allowed=False), "nobody has confirmed with them that this way is safe"),
        (ana(stopped=True), "they asked us to stop this way (replied STOP)"),
        (ana(status=ExpertStatus.WITHDRAWN), "they have withdrawn, so nothing more is sent"),
        (ana(held=True), "messages are on hold after a worrying reply until a person has looked"),
    ],
    ids=["no-consent", "stopped", "withdrawn", "held"],
)
def test_each_rule_refuses_an_answer_with_its_reason(person: Expert, reason: str) -> None:
    verdict = check(person, answer(), WORDS, DAY)
    assert (verdict.allowed, verdict.reason) == (False, reason)


def test_the_stop_answer_passes_the_opt_out_it_made_but_not_missing_consent() -> None:
    assert check(ana(stopped=True), answer("OK", Kind.STOP_ANSWER), WORDS, DAY).allowed
    assert not check(ana(allowed=False), answer("OK", Kind.STOP_ANSWER), WORDS, DAY).allowed


def test_only_the_support_lines_and_cancellation_news_pass_the_hold() -> None:
    held = ana(held=True)
    assert check(held, answer("116 123", Kind.SUPPORT_LINES), WORDS, DAY).allowed
    assert check(held, planned("Cancelled", Purpose.CANCELLATION), WORDS, DAY).allowed
    assert not check(held, planned("Reminder", Purpose.REMINDER), WORDS, DAY).allowed


def test_a_blocked_word_is_refused_only_where_details_are_not_safe() -> None:
    text = "See you at the Survivors' group"
    verdict = check(ana(), planned(text), WORDS, DAY)
    assert (verdict.allowed, verdict.word) == (False, "survivor")
    assert "\u201csurvivor\u201d" in verdict.reason and "group" not in verdict.reason
    assert check(ana(details=True), planned(text), WORDS, DAY).allowed
    assert check(ana(discreet=False), planned(text), WORDS, DAY).allowed


def test_strangers_are_never_safe_for_details_and_only_get_immediate_answers() -> None:
    assert not details_safe(None, Channel.SMS)
    assert check(None, answer("Sorry, this number doesn't recognise you."), WORDS, DAY).allowed
    assert not check(None, answer("Women's Aid: 0800"), WORDS, DAY).allowed
    assert not check(None, planned("Hi"), WORDS, DAY).allowed


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("grapes and scrapes", None),
        ("RAPE crisis", "rape"),
        ("the survivors group", "survivor"),
        ("costs of £20 paid back", "£"),
        ("Women\u2019s Aid", "women's aid"),
        ("a therapist", None),
    ],
)
def test_blocked_words_match_where_a_word_starts(text: str, found: str | None) -> None:
    assert WORDS.first_in(text) == found
