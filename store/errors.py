"""The one family of errors whose message a person reads.

Every layer refuses things (a rule, a form, a missing key), so the base sits at the
bottom, beside the other shared words of the store. The CLI and the staff pages catch
`Refused` once and show its sentence; anything else is a bug and is logged as one.
"""

from __future__ import annotations

from collections.abc import Mapping


class Refused(ValueError):
    """Something Linkline will not do, said so a person can put it right.

    ``message`` is the sentence for the command line; ``plain`` says it for a web page
    (defaults to the same words); ``field`` names the form field it is about, if any;
    ``errors`` holds one sentence per form field when several are wrong at once.
    """

    def __init__(
        self,
        message: str = "",
        *,
        field: str | None = None,
        plain: str | None = None,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        if errors and not message:
            message = "; ".join(errors.values())
        super().__init__(message)
        self.message = message
        self.field = field
        self.plain = plain or message
        self.errors: dict[str, str] = dict(errors or {})

    def by_field(self, default: str) -> dict[str, str]:
        """What a form shows beside which field (``default`` when no field is named)."""
        return dict(self.errors) if self.errors else {self.field or default: self.plain}

    def __str__(self) -> str:
        return self.message or super().__str__()


class CannotStart(Refused, RuntimeError):
    """Linkline cannot start or reach what it needs; the message says what to fix."""
