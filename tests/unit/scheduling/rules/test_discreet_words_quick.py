"""The quick "not there" test in front of the discreet word search never changes an
answer: checked against the search alone on many texts, and on words whose letters the
search matches to ASCII ones."""

from __future__ import annotations

import random
import re

import pytest

from scheduling.rules.discreet_words import BlockedWords, _any_of, _pattern


def _searched(words: BlockedWords, text: str) -> str | None:
    """The answer from the search alone, as the gate had it before the quick test."""
    folded = text.replace("\u2019", "'")
    if not words.words or not _any_of(words.words).search(folded):
        return None
    return next((w for w in words.words if _pattern(w).search(folded)), None)


def _texts(words: BlockedWords, count: int) -> list[str]:
    pieces = [*words.words, "grapes", "Trauma", "ABUSED", "therapist", "e", "£", "\u2019s"]
    pieces += ["Hi Ana,", "\n", " ", "-", "'", "Zoë", "x", "SURVIVORS", "women\u2019s aid"]
    chance = random.Random(15)
    texts = []
    for _ in range(count):
        chosen = [chance.choice(pieces) for _ in range(chance.randint(0, 12))]
        glue = chance.choice(["", " ", "\n"])
        text = glue.join(chosen)
        if chance.random() < 0.5:
            text = "".join(c.upper() if chance.random() < 0.3 else c for c in text)
        texts.append(text)
    return texts


def test_the_answer_is_the_search_s_on_every_text() -> None:
    words = BlockedWords.load()
    for text in _texts(words, 5000):
        assert words.first_in(text) == _searched(words, text), text


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("\u212aill", "kill"),  # the Kelvin sign is a "k" to the search
        ("abu\u017fe", "ABUSE"),  # a long s is an "s"
        ("£", "costs £20"),
        ("Trauma", "after trauma"),  # a word given in capitals
    ],
)
def test_letters_the_search_takes_for_ascii_ones_are_still_found(word: str, text: str) -> None:
    words = BlockedWords((word,))
    assert re.search(_pattern(word), text)
    assert words.first_in(text) == word


def test_a_caseless_word_is_not_looked_for_in_plain_text() -> None:
    words = BlockedWords(("£", "helpline"))
    assert words.first_in("Ring the HelpLine") == "helpline"
    assert words.first_in("Nothing here at all") is None
