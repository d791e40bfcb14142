"""Turning a template in ``templates/<purpose>/<channel>.txt`` into a subject and body.

Templates are data written by people. A missing variable is an error, never a blank, so a
message cannot go out saying "Hi ," or "on  at ".

A sentence that promises a follow-up carries its promise beside it in the template
(``I'll send the full details.{{ promise("details") }}``): it prints nothing, and the
rendered message lists what it promised, so the ledger records exactly what was said.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from store.enums import Channel, Purpose
from store.errors import Refused

DEFAULT_TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"


class RenderError(Refused):
    """A template is missing or broken; a person must fix it before this message can go."""


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    promises: tuple[str, ...] = ()


class Renderer:
    def __init__(self, folder: Path = DEFAULT_TEMPLATE_DIR) -> None:
        self.folder = folder
        self._env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=False,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(self, purpose: Purpose, channel: Channel, context: dict[str, Any]) -> Rendered:
        return self.render_named(f"{purpose.value}/{channel.value}.txt", context)

    def render_named(self, name: str, context: dict[str, Any]) -> Rendered:
        """Any template under the folder, e.g. ``replies/stop.txt`` or ``alerts/urgent.txt``."""
        promised: list[str] = []

        def promise(kind: str) -> str:
            if kind not in promised:
                promised.append(kind)
            return ""

        try:
            text = self._env.get_template(name).render(**{**context, "promise": promise})
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
