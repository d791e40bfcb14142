"""How a typed name is compared with a stored one: case, accents, punctuation and word
order do not matter; every word typed must start a word of the name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.services.delivery.find_expert import folded, name_matches


def test_names_are_compared_the_way_people_type_them() -> None:
    assert folded("Siobhán O'Neil") == "siobhan o neil"
    assert name_matches("siobhan", "Siobhán O'Neil")
    assert name_matches("o neil siob", "Siobhán O'Neil")
    assert not name_matches("neill", "Siobhán O'Neil")
    assert not name_matches("ana", "Hannah")  # a word must start with what is typed


@given(st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=40))
def test_a_name_always_finds_itself(name: str) -> None:
    if folded(name):
        assert name_matches(name, name)
        assert name_matches(name.upper(), name) or folded(name.upper()) != folded(name)
