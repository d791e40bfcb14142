"""`linkline demo`: the whole loop over three simulated weeks, in under a minute."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.cli.common import console, fail, open_app, run
from bot.cli.demo_story import DAYS, DemoResult, run_story, story_start
from bot.settings import Settings
from scheduling.clock import SimulatedClock
from scheduling.people.promises import PROMISE_WORDS
from scheduling.sending.dispatcher import DispatchEvent
from scheduling.text.words import label, reason_in_words
from store.enums import Channel, MessageStatus, Purpose

MARKER = ".linkline-demo"
DEFAULT_OUT = Path("var/demo")
_SHOWN = {
    "sent": "sent",
    "deferred": "held",
    "suppressed": "not sent",
    "cancelled": "cancelled",
    "handed_to_person": "to a person",
    "retry": "retry",
    "fallback": "fallback",
    "failed": "FAILED",
    "uncertain": "UNCERTAIN",
}


def _fresh_folder(folder: Path) -> None:
    """Only ever delete a folder the demo made itself."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            fail(f"{folder} is not empty and was not made by the demo: choose another --out", 2)
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # new, empty or the demo's own: private like any data folder
    (folder / MARKER).write_text("made by `linkline demo`; safe to delete\n", encoding="utf-8")


def demo_settings(out: Path) -> Settings:
    """The demo ignores .env: it must never touch real data or providers."""
    return Settings(
        _env_file=None,
        data_dir=out,
        database_url=f"sqlite:///{out / 'demo.db'}",
        outbox_dir=out / "outbox",
    )


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M")


def _purpose(value: str) -> str:
    """A dispatch event names its purpose by value; people read the table's words."""
    try:
        return label(Purpose(value))
    except ValueError:
        return value


def run_demo(
    out: Path = typer.Option(
        DEFAULT_OUT,
        "--out",
        help="Folder for the demo's database and the messages it writes (replaced on each run).",
    ),
) -> None:
    """Run three simulated weeks with six sample experts: no network, no credentials."""
    _fresh_folder(out)
    settings = demo_settings(out)
    zone = ZoneInfo(settings.default_time_zone)
    names: dict[int, str] = {}

    def say(at: datetime, text: str) -> None:
        console.print(f"[dim]{_when(at, zone)}[/]  [bold]{text}[/]", highlight=False)

    def on_event(event: DispatchEvent) -> None:
        channel = label(event.channel, "-")
        who = names.get(event.expert_id, f"expert {event.expert_id}")
        console.print(
            f"[dim]{_when(event.at, zone)}[/]  {who:<7} {_purpose(event.purpose):<17} "
            f"{channel:<13} {_SHOWN.get(event.outcome, event.outcome):<12} "
            f"[dim]{reason_in_words(event.detail)}[/]",
            highlight=False,
        )

    async def action() -> DemoResult:
        start = story_start(zone)
        clock = SimulatedClock(start)
        async with open_app(upgrade=True, clock=clock, settings=settings) as built:
            console.print(
                f"Linkline demo: {DAYS} days from {_when(start, zone)} ({zone.key} time).\n"
            )
            return await run_story(built, clock, say, on_event, names)

    began = time.monotonic()
    result = run(action)
    _summary(result, out, time.monotonic() - began, zone)


def _by_status(item: tuple[tuple[MessageStatus, Channel | None], int]) -> tuple[str, str]:
    (status, channel), _ = item
    return status.value, channel.value if channel else ""


def _summary(result: DemoResult, out: Path, seconds: float, zone: ZoneInfo) -> None:
    console.print()
    table = Table("status", "channel", "messages", title="Where every planned message ended up")
    for (status, channel), count in sorted(result.statuses.items(), key=_by_status):
        table.add_row(label(status), label(channel, "-"), str(count))
    console.print(table)
    held = sum(1 for e in result.events if e.outcome == "deferred")
    console.print(f"{held} times a message was held until the person's safe hours.")
    for reason, count in sorted(result.not_sent.items()):
        console.print(f"  not sent ({count}): {reason}")
    tasks = Table("task", "urgent", "for", title="Work for people")
    for task in result.tasks:
        who = result.names.get(task.expert_id or 0, "")
        tasks.add_row(task.title, "yes" if task.urgent else "", who)
    console.print(tasks)
    promises = Table("promise", "to", "kept", title="Promises made in messages")
    for promise in result.promises:
        promises.add_row(
            PROMISE_WORDS.get(promise.kind, "We said we would follow up"),
            result.names.get(promise.expert_id, ""),
            promise.kept_how
            or ("not yet" if promise.escalated_at is None else "not yet: escalated"),
        )
    console.print(promises)
    talk = Table("when", "", "how", "what", "words", title="The conversation with Ana")
    # Around the first message a person wrote: what she said, and the answer.
    written = [i for i, t in enumerate(result.conversation) if t.what == label(Purpose.WRITTEN)]
    first = written[0] if written else len(result.conversation)
    for turn in result.conversation[max(0, first - 4) : first + 1]:
        words = " ".join(turn.text.split())
        talk.add_row(
            _when(turn.at, zone),
            "from Ana" if turn.incoming else "to Ana",
            turn.how,
            f"{turn.what}, {turn.who}",
            words if len(words) <= 70 else words[:69] + "…",
        )
    console.print(talk)
    files = sorted(p for p in (out / "outbox").rglob("*") if p.is_file())
    letters = sorted((out / "letters").rglob("*.pdf"))
    console.print(
        f"{len(files)} texts, Telegram messages and .eml emails written under "
        f"{out / 'outbox'} (dry-run: nothing was sent); {len(letters)} PDF letters waiting "
        f"under {out / 'letters'} for printing. Database: {out / 'demo.db'}. "
        f"Ran in {seconds:.1f} s."
    )
    serve = "make demo-serve" if out == DEFAULT_OUT else f"linkline demo-serve --out {out}"
    console.print(
        f"\nTo look around the demo in the staff pages, run [bold]{serve}[/] and open "
        "http://127.0.0.1:8000/ (it prints the demo sign-ins).",
        highlight=False,
    )
