"""Reading replies. A worrying message that reaches no one is real harm, so test with real texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.rules.distress import DEFAULT_DISTRESS_WORDS, DistressWords, DistressWordsError
from scheduling.rules.intents import LOW_SCORE, Asked, Intent, Understood, understand
from scheduling.rules.reply_text import normalise

WORDS = DistressWords.load()
EVERY_CONTEXT = tuple(Asked)


def read(text: str, asked: Asked = Asked.NOTHING) -> Understood:
    return understand(text, asked, WORDS)


# --- answers to an invitation --------------------------------------------------------------------

INVITATION_REPLIES = [
    # yes
    ("Yeah", Intent.YES),
    ("y", Intent.YES),
    ("Y", Intent.YES),
    ("YES!!", Intent.YES),
    ("yes", Intent.YES),
    ("Yes 👍", Intent.YES),
    ("yes thanks x", Intent.YES),
    ("Yes please", Intent.YES),
    ("yep", Intent.YES),
    ("Yup.", Intent.YES),
    ("aye", Intent.YES),
    ("Sure", Intent.YES),
    ("ok", Intent.YES),
    ("Okay 😊", Intent.YES),
    ("I’ll be there", Intent.YES),
    ("I'll be there!", Intent.YES),
    ("Count me in", Intent.YES),
    ("see you there x", Intent.YES),
    ("i can make it", Intent.YES),
    ("👍", Intent.YES),
    ("👍🏽", Intent.YES),
    ("✅", Intent.YES),
    ("👌", Intent.YES),
    ("yessss", Intent.YES),
    ("Hi yes I'll be there thanks", Intent.YES),
    # no
    ("no", Intent.NO),
    ("No thanks", Intent.NO),
    ("n", Intent.NO),
    ("Nope", Intent.NO),
    ("nah", Intent.NO),
    ("Sorry no", Intent.NO),
    ("can't make it sorry", Intent.NO),
    ("Cant make it", Intent.NO),
    ("can’t come", Intent.NO),
    ("I can't", Intent.NO),
    ("not this time", Intent.NO),
    ("Unable to make it", Intent.NO),
    ("sorry I can't make it", Intent.NO),
    ("Sorry, I can't make it x", Intent.NO),
    ("👎", Intent.NO),
    ("❌", Intent.NO),
    ("noooo", Intent.NO),
    # maybe
    ("maybe", Intent.MAYBE),
    ("Not sure", Intent.MAYBE),
    ("not sure yet", Intent.MAYBE),
    ("possibly", Intent.MAYBE),
    ("might", Intent.MAYBE),
    ("Perhaps", Intent.MAYBE),
    ("I'll try", Intent.MAYBE),
    ("hopefully!", Intent.MAYBE),
    ("🤷", Intent.MAYBE),
    ("🤷‍♀️", Intent.MAYBE),
    ("dunno", Intent.MAYBE),
    # mixed or unclear: a person reads it
    ("yes no", Intent.OTHER),
    ("Yes. No actually", Intent.OTHER),
    ("maybe yes", Intent.OTHER),
    ("yes but only if I can bring my son", Intent.OTHER),
    ("what time is it on tuesday?", Intent.OTHER),
    ("where is it?", Intent.OTHER),
    ("no 👍", Intent.OTHER),
    ("yes 😢", Intent.OTHER),
    ("3", Intent.OTHER),
    ("pass", Intent.OTHER),
    ("thanks", Intent.OTHER),
    ("x", Intent.OTHER),
    ("", Intent.OTHER),
    ("   ", Intent.OTHER),
    ("!!!", Intent.OTHER),
]


@pytest.mark.parametrize(("text", "intent"), INVITATION_REPLIES)
def test_a_reply_to_an_invitation_is_read_as_yes_no_maybe_or_left_for_a_person(
    text: str, intent: Intent
) -> None:
    assert read(text, Asked.INVITATION) == Understood(intent)


# --- answers to a check-in -----------------------------------------------------------------------

CHECK_IN_SCORES = [
    ("1", 1),
    ("2", 2),
    ("3", 3),
    ("4", 4),
    ("5", 5),
    ("3/5", 3),
    ("3 / 5", 3),
    ("3 out of 5", 3),
    ("a 4", 4),
    ("4!", 4),
    ("about 3", 3),
    ("5 x", 5),
    ("Its a 3 today", 3),
    ("３", 3),
    ("3️⃣", 3),
    ("three", 3),
    ("3 👍", 3),
    ("2 😢", 2),
    ("great", 4),
    ("Good thanks x", 4),
    ("fine", 4),
    ("I'm fine thanks", 4),
    ("doing well", 4),
    ("all good", 4),
    ("gooood", 4),
    ("really good", 5),
    ("Brilliant!", 5),
    ("ok", 3),
    ("Okay", 3),
    ("alright", 3),
    ("not bad", 3),
    ("Not too bad thanks", 3),
    ("so so", 3),
    ("so-so", 3),
    ("not great tbh", 2),
    ("Not good", 2),
    ("meh", 2),
    ("feeling a bit low", 2),
    ("I'm feeling a bit low today", 2),
    ("rough", 2),
    ("not so good", 2),
    ("not ok", 2),
    ("bad", 1),
    ("awful", 1),
    ("terrible", 1),
    ("rubbish", 1),
    ("struggling", 1),
    ("really bad", 1),
    ("😀", 4),
    ("😊", 4),
    ("🙂", 4),
    ("👍", 4),
    (":)", 4),
    ("😐", 3),
    ("😕", 2),
    ("🙁", 2),
    ("👎", 2),
    (":(", 2),
    ("😢", 1),
    ("😭", 1),
    ("😞", 1),
]


@pytest.mark.parametrize(("text", "score"), CHECK_IN_SCORES)
def test_a_check_in_reply_gives_a_score_from_1_to_5(text: str, score: int) -> None:
    assert read(text, Asked.CHECK_IN) == Understood(
        Intent.SCORE, score=score, worrying=score <= LOW_SCORE
    )


CHECK_IN_OTHERS = [
    ("PASS", Intent.PASS),
    ("pass", Intent.PASS),
    ("Pass thanks", Intent.PASS),
    ("skip", Intent.PASS),
    ("no thanks", Intent.PASS),
    ("I'd rather not say", Intent.PASS),
    # not a score we can trust: a person reads it
    ("7/10", Intent.OTHER),
    ("3/10", Intent.OTHER),
    ("0", Intent.OTHER),
    ("6", Intent.OTHER),
    ("10", Intent.OTHER),
    ("11", Intent.OTHER),
    ("3.5", Intent.OTHER),
    ("3 or 4", Intent.OTHER),
    ("4 😢", Intent.OTHER),
    ("good 😭", Intent.OTHER),
    ("no", Intent.OTHER),
    ("yes", Intent.OTHER),
    ("good but worried about thursday", Intent.OTHER),
    ("I feel bad for missing the meeting", Intent.OTHER),
    ("", Intent.OTHER),
    ("   ", Intent.OTHER),
    ("9" * 5000, Intent.OTHER),
    ("9" * 5000 + "/5", Intent.OTHER),
]


@pytest.mark.parametrize(("text", "intent"), CHECK_IN_OTHERS)
def test_a_check_in_reply_that_is_not_a_clear_score_is_a_pass_or_left_for_a_person(
    text: str, intent: Intent
) -> None:
    assert read(text, Asked.CHECK_IN) == Understood(intent)


def test_a_low_score_is_worrying_and_a_middling_one_is_not() -> None:
    assert read("2", Asked.CHECK_IN).worrying
    assert read("1", Asked.CHECK_IN).worrying
    assert not read("3", Asked.CHECK_IN).worrying
    assert not read("5", Asked.CHECK_IN).worrying


# --- nothing asked -------------------------------------------------------------------------------

NOTHING_ASKED = [
    "yes",
    "Yeah",
    "no",
    "maybe",
    "3",
    "2",
    "1",
    "👍",
    "😢",
    "good thanks",
    "pass",
    "what time is it on tuesday?",
    "Thanks for today x",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NOTHING_ASKED)
def test_when_we_asked_nothing_a_yes_or_a_number_is_left_for_a_person(text: str) -> None:
    assert read(text, Asked.NOTHING) == Understood(Intent.OTHER)


# --- keywords work whatever we asked -------------------------------------------------------------

KEYWORDS = [
    ("Stop", Intent.STOP),
    ("STOP", Intent.STOP),
    ("STOP.", Intent.STOP),
    ("stop!", Intent.STOP),
    ("  stop  ", Intent.STOP),
    ("stop please", Intent.STOP),
    ("Please stop", Intent.STOP),
    ("stopall", Intent.STOP),
    ("unsubscribe", Intent.STOP),
    ("cancel", Intent.STOP),
    ("end", Intent.STOP),
    ("quit", Intent.STOP),
    ("revoke", Intent.STOP),
    ("optout", Intent.STOP),
    ("opt-out", Intent.STOP),
    ("stop texting me", Intent.STOP),
    ("/stop", Intent.STOP),
    ("/stop@LinklineBot", Intent.STOP),
    ("stoppp", Intent.STOP),
    ("start", Intent.START),
    ("START", Intent.START),
    ("unstop", Intent.START),
    ("resume", Intent.START),
    ("help", Intent.HELP),
    ("HELP", Intent.HELP),
    ("help?", Intent.HELP),
    ("info", Intent.HELP),
    ("call", Intent.CALL),
    ("call me", Intent.CALL),
    ("Call me please", Intent.CALL),
    ("please call", Intent.CALL),
    ("Can you ring me?", Intent.CALL),
    ("can you call me", Intent.CALL),
    ("ring me", Intent.CALL),
    ("phone me", Intent.CALL),
    ("give me a call", Intent.CALL),
    ("Give me a ring x", Intent.CALL),
    ("Hi, can you call me? Thanks", Intent.CALL),
]


@pytest.mark.parametrize("asked", EVERY_CONTEXT)
@pytest.mark.parametrize(("text", "intent"), KEYWORDS)
def test_a_keyword_works_whatever_we_last_asked(text: str, intent: Intent, asked: Asked) -> None:
    assert read(text, asked) == Understood(intent)


@pytest.mark.parametrize(
    "text",
    [
        "don't stop",
        "stop sending me the wrong address",
        "can I start later",
        "at the end",
        "I'll call you tomorrow",
        "call me maybe",
        "help with travel costs",
        "yes stop",
    ],
)
def test_a_keyword_inside_a_sentence_is_not_a_command(text: str) -> None:
    for asked in EVERY_CONTEXT:
        assert read(text, asked).intent == Intent.OTHER


def test_yes_is_an_answer_not_an_opt_in() -> None:
    assert read("yes", Asked.INVITATION).intent == Intent.YES
    assert read("yes", Asked.NOTHING).intent == Intent.OTHER


# --- pause ---------------------------------------------------------------------------------------

PAUSES = [
    ("pause", None),
    ("PAUSE", None),
    ("Pause please", None),
    ("pause for now", None),
    ("pause 2 weeks", 14),
    ("PAUSE 2 weeks", 14),
    ("pause for 2 weeks", 14),
    ("pause two weeks", 14),
    ("pause 2weeks", 14),
    ("pause 10 days", 10),
    ("pause a month", 30),
    ("Pause for a month", 30),
    ("pause 3 months", 90),
    ("pause 1 week", 7),
    ("pause a week", 7),
    ("pause for a fortnight", 14),
    ("pause a couple of weeks", 14),
    ("pause 1 day", 1),
    ("pause 52 weeks", 364),
    ("pause 365 days", 365),
    ("pause a year", 365),
]


@pytest.mark.parametrize("asked", EVERY_CONTEXT)
@pytest.mark.parametrize(("text", "days"), PAUSES)
def test_pause_takes_an_optional_length(text: str, days: int | None, asked: Asked) -> None:
    assert read(text, asked) == Understood(Intent.PAUSE, pause_days=days)


@pytest.mark.parametrize(
    "text",
    [
        "pause 53 weeks",
        "pause 366 days",
        "pause 2 years",
        "pause 0 days",
        "pause 2",
        "pause until january",
        "pause forever",
        "pause " + "9" * 5000 + " days",
        "can we pause the meeting",
    ],
)
def test_a_pause_we_cannot_read_safely_is_left_for_a_person(text: str) -> None:
    assert read(text) == Understood(Intent.OTHER)


# --- worrying replies ----------------------------------------------------------------------------

WORRYING = [
    "I want to end it all",
    "i want to end it all.",
    "he hit me again",
    "He hit me again 😢",
    "help me",
    "Help me please",
    "please help",
    "help please",
    "yes but i want to die",
    "Yes but I want to die",
    "I can't go on",
    "I cant go on",
    "I can’t go on",
    "I cannot go on",
    "im not safe",
    "I'm not safe here",
    "I'm scared",
    "Im scared",
    "he's back",
    "hes back",
    "I relapsed",
    "using again",
    "2 and drinking again",
    "i wanna die",
    "thinking about self-harm",
    "I've been self harming",
    "stop hurting me",
    "call 999",
    "better off dead",
    "SUICIDAL",
    "I can't cope",
    "feel hopeless",
    "he threatened me",
]


@pytest.mark.parametrize("asked", EVERY_CONTEXT)
@pytest.mark.parametrize("text", WORRYING)
def test_a_worrying_reply_goes_to_a_person_whatever_we_asked(text: str, asked: Asked) -> None:
    assert read(text, asked) == Understood(Intent.OTHER, worrying=True)


def test_plain_help_is_the_help_keyword_but_help_me_is_worrying() -> None:
    assert read("help") == Understood(Intent.HELP)
    assert read("help me") == Understood(Intent.OTHER, worrying=True)


@pytest.mark.parametrize("phrase", WORDS.phrases)
def test_every_phrase_on_the_shipped_list_is_worrying_on_its_own(phrase: str) -> None:
    for asked in EVERY_CONTEXT:
        assert read(phrase, asked) == Understood(Intent.OTHER, worrying=True)


@pytest.mark.parametrize(
    "text", ["white meat", "I had a haircut myself", "he hit the ball to me", "thanks, see you"]
)
def test_distress_words_match_whole_words_only(text: str) -> None:
    assert not WORDS.matches(text)


def test_distress_words_tolerate_missing_apostrophes_and_spelling_out() -> None:
    words = DistressWords(("can't cope", "I'm scared", "want to die"))
    for text in ("cant cope", "CAN’T COPE!", "I cannot cope", "i can not cope"):
        assert words.matches(text)
    for text in ("im scared", "I am scared", "I’m scared"):
        assert words.matches(text)
    assert words.matches("i wanna die")


def test_the_shipped_list_says_people_review_it_and_why_it_is_broad() -> None:
    header = DEFAULT_DISTRESS_WORDS.read_text(encoding="utf-8").lower()
    assert "reviewed by people" in header
    assert "false alarm" in header
    assert 40 <= len(WORDS.phrases) <= 100


def test_an_empty_distress_list_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "words.txt"
    empty.write_text("# only comments\n\n   \n# here\n", encoding="utf-8")
    with pytest.raises(DistressWordsError, match="must never be empty") as caught:
        DistressWords.load(empty)
    assert str(empty) in str(caught.value)
    with pytest.raises(DistressWordsError, match="empty"):
        DistressWords(())


def test_a_distress_line_with_no_words_is_refused_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# header\nhelp me\n!!!\n", encoding="utf-8")
    with pytest.raises(DistressWordsError, match=r"line 3: '!!!'"):
        DistressWords.load(path)


def test_a_custom_list_is_used_instead_of_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("\ufeff# ours\nsafe word pineapple\n", encoding="utf-8")
    words = DistressWords.load(path)
    assert understand("Pineapple! safe word pineapple", Asked.NOTHING, words).worrying
    assert not understand("I want to die", Asked.NOTHING, words).worrying


# --- normalising ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  YES!!  ", "yes"),
        ("I’ll  be\tthere.", "i'll be there"),
        ("“ok”", "ok"),
        ("👍🏿", "👍"),
        ("❤️", "❤"),
        ("ＳＴＯＰ", "stop"),
        ("Yes 👍", "yes 👍"),
        ("...", ""),
    ],
)
def test_replies_are_compared_without_case_styling_or_trailing_punctuation(
    raw: str, clean: str
) -> None:
    assert normalise(raw) == clean


# --- never raises --------------------------------------------------------------------------------

_PIECES = [
    *("yes", "no", "maybe", "stop", "pause", "2", "weeks", "3/5", "7/10", "help", "me", "call"),
    *("not", "great", "good", "👍", "😢", "🏽", "\ufe0f", "\u200d", "♀", "x", "thanks", "'", "’"),
    *("!", ".", "/", ":(", "<3", " ", "  ", "\n", "can't", "i", "want", "to", "die", "0", "9" * 9),
]
_TEXTS = st.one_of(
    st.text(),
    st.text(st.characters(exclude_categories=())),  # surrogates and unassigned code points too
    st.lists(st.sampled_from(_PIECES), max_size=8).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=8).map(" ".join),
)


@settings(max_examples=400)
@given(text=_TEXTS, asked=st.sampled_from(Asked))
def test_understand_never_raises_and_always_gives_a_consistent_answer(
    text: str, asked: Asked
) -> None:
    result = understand(text, asked, WORDS)
    assert isinstance(result, Understood)
    assert isinstance(result.intent, Intent)
    if result.intent == Intent.SCORE:
        assert result.score is not None and 1 <= result.score <= 5
        assert result.worrying == (result.score <= LOW_SCORE)
    else:
        assert result.score is None
    if result.intent == Intent.PAUSE:
        assert result.pause_days is None or 1 <= result.pause_days <= 365
    else:
        assert result.pause_days is None
    if result.worrying:
        assert result.intent in (Intent.OTHER, Intent.SCORE)
    if asked == Asked.NOTHING:
        assert result.intent not in (Intent.YES, Intent.NO, Intent.MAYBE, Intent.SCORE)


@given(text=_TEXTS, asked=st.sampled_from(Asked))
def test_a_distress_phrase_after_anything_is_always_worrying(text: str, asked: Asked) -> None:
    result = understand(text + " i want to die", asked, WORDS)
    assert result == Understood(Intent.OTHER, worrying=True)


@pytest.mark.parametrize(
    ("text", "score", "worrying"),
    [
        ("2, not a great day", 2, True),
        ("2. rough day", 2, True),
        ("1 - awful week tbh", 1, True),
        ("4, busy week but ok", 4, False),
        ("3/5 tired", 3, False),
    ],
)
def test_a_number_then_their_own_words_is_the_score_and_a_person_reads_the_rest(
    text: str, score: int, worrying: bool
) -> None:
    understood = understand(text, Asked.CHECK_IN, DistressWords.load())
    assert (understood.intent, understood.score) == (Intent.SCORE, score)
    assert understood.worrying is worrying and understood.more
