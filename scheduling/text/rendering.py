"""Turning a template in ``templates/<purpose>/<channel>.txt`` into a subject and body.

Templates are data written by people. A missing variable is an error, never a blank, so a
message cannot go out saying "Hi ," or "on  at ". The same holds for a value that is there
but empty: a ``None`` in the context becomes `NotGiven`, which a template may test
(`{% if venue_name %}`) but never print. A message that would show "None" is a
`RenderError` handed to a person, never sent.

A sentence that promises a follow-up carries its promise beside it in the template
(``I'll send the full details.{{ promise("details") }}``): it prints nothing, and the
rendered message lists what it promised, so the ledger records exactly what was said.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateRuntimeError,
)

from scheduling.rules.template_files import TEMPLATES
from store.enums import Channel, Purpose
from store.errors import Refused

DEFAULT_TEMPLATE_DIR = TEMPLATES


class RenderError(Refused):
    """A template is missing or broken; a person must fix it before this message can go."""


class MissingValue(TemplateRuntimeError):
    """A template tried to print a value nobody gave."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        what = f"the {name.replace('_', ' ')}" if name else "a detail it needs"
        super().__init__(f"{what} is not filled in")


class NotGiven:
    """A value nobody gave: false to `{% if %}`, an error if a template prints it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        raise MissingValue(self.name)

    def __repr__(self) -> str:
        return f"NotGiven({self.name!r})"


def _refuse_missing(value: Any) -> Any:
    """Jinja's finalize: every printed value passes here. "None" never reaches a person,
    whether it is Python's None, a value nobody gave, or the word left in a record."""
    if isinstance(value, NotGiven):
        raise MissingValue(value.name)
    if value is None or (isinstance(value, str) and value.strip() == "None"):
        raise MissingValue(None)
    return value


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    promises: tuple[str, ...] = ()


class Renderer:
    def __init__(self, folder: Path = DEFAULT_TEMPLATE_DIR, reply_phone: str | None = None) -> None:
        """``reply_phone``: the number people ring or text to reach us, if there is one;
        letters and emails print it so every reader has a way to answer."""
        self.folder = folder
        self._env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=False,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=_refuse_missing,
        )
        self._env.globals["reply_phone"] = (reply_phone or "").strip()

    def render(self, purpose: Purpose, channel: Channel, context: dict[str, Any]) -> Rendered:
        return self.render_named(f"{purpose.value}/{channel.value}.txt", context)

    def render_named(self, name: str, context: dict[str, Any]) -> Rendered:
        """Any template under the folder, e.g. ``replies/stop.txt`` or ``alerts/urgent.txt``."""
        promised: list[str] = []

        def promise(kind: str) -> str:
            if kind not in promised:
                promised.append(kind)
            return ""

        values = {k: NotGiven(k) if v is None else v for k, v in context.items()}
        try:
            text = self._env.get_template(name).render(**{**values, "promise": promise})
        except MissingValue as exc:
            raise RenderError(
                f"this message could not be written: {exc}. Fill it in, then send it again"
            ) from exc
        except TemplateError as exc:
            raise RenderError(f"template {name} could not be used: {exc}") from exc
        return replace(_split_subject(_tidy(text)), promises=tuple(promised))


def _tidy(text: str) -> str:
    """Collapse the blank lines that optional sections leave behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def _split_subject(text: str) -> Rendered:
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return Rendered(first.split(":", 1)[1].strip(), rest.strip())
    return Rendered(None, text)
