"""Shared CLI plumbing: settings, building the app, and one-line errors people can act on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from store.errors import Refused

if TYPE_CHECKING:
    from bot.bootstrap import App
    from scheduling.clock import Clock

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

CLI_ACTOR = "cli"


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(settings_error_line(exc), 2)


def settings_error_line(exc: ValidationError) -> str:
    """One line for the first bad setting; our own checks already name it and say what to
    set, so pydantic's "Value error," prefix is dropped rather than repeated."""
    first = exc.errors()[0]
    message = str(first["msg"])
    if first["type"] == "value_error":
        return message.removeprefix("Value error, ")
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    return f"setting {where} is not valid: {message}"


def run(action: Callable[[], Awaitable[T]]) -> T:
    """Run one async command, turning known failures into a clear line and exit code."""
    try:
        return asyncio.run(action())  # type: ignore[arg-type]
    except Refused as exc:
        # Every refusal's message is written for a person: one line, exit code 1.
        fail(str(exc))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail(f"{where}: {first['msg']}" if where else str(first["msg"]))
    except SQLAlchemyError as exc:
        # One line, and never the SQL or its values: those can hold personal data.
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:200]
        fail(f"the database refused the change ({reason}); nothing was saved")


@asynccontextmanager
async def open_app(
    *, upgrade: bool = False, clock: Clock | None = None, settings: Settings | None = None
) -> AsyncIterator[App]:
    # Imported here: building reaches every channel's library, which `--help` need not load.
    from bot.bootstrap import build_app

    app = await build_app(settings or load_settings(), clock=clock, upgrade=upgrade)
    for notice in app.notices:
        err_console.print(f"[yellow]Note:[/] {notice}", highlight=False)
    try:
        yield app
    finally:
        await app.aclose()


def parse_local_datetime(text: str, tz: str, what: str) -> datetime:
    """Read "2026-03-17 14:00" as local time in ``tz``; refuse anything ambiguous."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{what} {text!r} is not a date and time: use the form 2026-03-17 14:00", 2)
    if value.tzinfo is None:
        zone = ZoneInfo(tz)
        first, second = value.replace(tzinfo=zone), value.replace(tzinfo=zone, fold=1)
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            fail(f"{what} {text!r} does not exist: the clocks go forward then", 2)
        if first.utcoffset() != second.utcoffset():
            fail(f"{what} {text!r} happens twice when the clocks go back: choose another time", 2)
        value = first
    return value.astimezone(UTC)


def local(moment: datetime | None, tz: str) -> str:
    """A stored time as read in ``tz`` (the organisation's zone, or an expert's own)."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")
