"""`linkline plans` and `linkline pastoral` as a link worker uses them, with bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Invoke = Callable[..., Result]
HEADER = "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,consent_confirmed_on,consent_confirmed_by"  # noqa: E501
ANA = "A1,Ana Morrison,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org"


@pytest.fixture
def with_expert(ready: Invoke, tmp_path: Path) -> Invoke:
    path = tmp_path / "experts.csv"
    path.write_text(f"{HEADER}\n{ANA}\n", encoding="utf-8")
    assert ready("experts", "import", str(path)).exit_code == 0
    return ready


def test_plan_settings_show_where_each_value_comes_from(with_expert: Invoke) -> None:
    assert with_expert("plans", "set", "--kind", "Panel", "--pre-brief-days", "10").exit_code == 0
    assert with_expert("plans", "set", "--expert", "A1", "--send-at", "14:30").exit_code == 0
    shown = with_expert("plans", "show", "--kind", "panel", "--expert", "A1")
    assert shown.exit_code == 0, shown.output
    assert "pre-brief 10 days before" in shown.output and "kind 'panel'" in shown.output
    assert "aimed at 14:30 their time" in shown.output and "expert A1" in shown.output
    assert "organisation default" in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "panel", "--reminder-days", "9"], "reminder must come after the pre-brief"),
        (["--kind", "panel", "--de-brief-days", "1"], "de-brief must come after the check-in"),
        (["--kind", "panel", "--send-at", "3am"], "time like 10:00"),
        (["--kind", "panel", "--send-at", "23:30"], "daytime hour"),
        (["--kind", "panel", "--clear", "colour"], "use one of"),
        (["--kind", "panel"], "nothing to change"),
        (["--pre-brief-days", "9"], "--kind NAME, --expert ID or --engagement ID"),
        (["--engagement", "77", "--pre-brief-days", "9"], "no engagement with id 77"),
        (["--expert", "Z9", "--pre-brief-days", "9"], "no expert with id or ref"),
        (["--kind", "  ", "--pre-brief-days", "9"], "kind of engagement is empty"),
    ],
)
def test_contradictory_or_malformed_plan_settings_are_refused_and_nothing_saved(
    with_expert: Invoke, args: list[str], message: str
) -> None:
    result = with_expert("plans", "set", *args)
    assert result.exit_code != 0
    assert message in " ".join(result.stderr.split())
    shown = with_expert("plans", "show", "--kind", "panel")
    assert "Kinds with their own settings" not in shown.output


def test_contact_level_is_set_in_plain_words_and_a_too_frequent_one_is_refused(
    with_expert: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = with_expert("pastoral", "level", "A1", "every two weeks")
    assert done.exit_code == 0 and "fortnightly" in done.output
    assert with_expert("pastoral", "level", "A1", "hourly").exit_code == 2
    monkeypatch.setenv("LINKLINE_PASTORAL_MIN_DAYS", "14")
    refused = with_expert("pastoral", "level", "A1", "weekly")
    assert refused.exit_code == 1
    assert "more often than this organisation allows" in " ".join(refused.stderr.split())


def test_approvals_switch_and_bank_holiday_choice(with_expert: Invoke) -> None:
    on = with_expert("pastoral", "approvals", "sam@example.org", "on")
    assert on.exit_code == 0 and "unapproved drafts are not sent" in on.output
    assert with_expert("pastoral", "approvals", "sam@example.org", "maybe").exit_code == 2
    assert with_expert("pastoral", "approvals", "nobody@example.org", "on").exit_code == 1
    assert with_expert("pastoral", "drafts").output.startswith("No drafts")
    allowed = with_expert("plans", "bank-holidays", "A1", "allow")
    assert allowed.exit_code == 0 and "may be contacted on bank holidays" in allowed.output
    assert with_expert("plans", "bank-holidays", "A1", "sometimes").exit_code == 2


def test_approving_something_that_is_not_a_waiting_draft_says_so(with_expert: Invoke) -> None:
    result = with_expert("pastoral", "approve", "999")
    assert result.exit_code == 1
    assert "no keeping-in-touch draft 999" in result.stderr


def test_bad_settings_are_refused_at_start_with_the_setting_named(
    with_expert: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKLINE_CAP_PER_DAY", "3")
    monkeypatch.setenv("LINKLINE_CAP_PER_WEEK", "2")
    result = with_expert("plans", "show")
    assert result.exit_code == 2
    assert "LINKLINE_CAP_PER_DAY (3) cannot be more than" in " ".join(result.stderr.split())
