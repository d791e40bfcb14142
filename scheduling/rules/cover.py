"""Who is responsible for a person today: their link worker, or the named cover."""

from __future__ import annotations

from datetime import date

from store.models import Staff


def responsible_staff(worker: Staff, on: date) -> Staff:
    """The link worker, or their named cover while they are away."""
    if worker.is_away(on) and worker.cover is not None and not worker.cover.is_away(on):
        return worker.cover
    return worker
