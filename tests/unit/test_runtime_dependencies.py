"""Everything the packages import when Linkline runs is a runtime dependency.

A module imported at run time but declared only among the dev extras works in CI (which
installs them) and fails on a fresh clone's `make run`: the README's front door.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "scheduling", "channels", "store")


def _imported_top_level_names() -> dict[str, set[str]]:
    """Top-level module name -> the files that import it (migrations included)."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def _declared_runtime_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_every_import_at_run_time_is_declared_or_standard_library() -> None:
    declared = _declared_runtime_distributions()
    owners = packages_distributions()
    ours = set(PACKAGES)
    missing = []
    for module, files in sorted(_imported_top_level_names().items()):
        if module in ours or module in sys.stdlib_module_names or module == "__future__":
            continue
        distributions = {d.lower().replace("_", "-") for d in owners.get(module, [])}
        if not distributions:
            missing.append(f"{module} (not installed at all), imported by {sorted(files)[0]}")
        elif not distributions & declared:
            missing.append(
                f"{module} (from {', '.join(sorted(distributions))}) is imported by "
                f"{sorted(files)[0]} but is not in [project.dependencies]"
            )
    assert not missing, "\n".join(missing)
