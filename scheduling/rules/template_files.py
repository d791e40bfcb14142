"""Where the words live: the top-level ``templates/`` folder.

A checkout keeps it beside the packages, and a plain install puts it there too (it is
package data in pyproject.toml), so one path serves both and nothing depends on the
working directory.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
