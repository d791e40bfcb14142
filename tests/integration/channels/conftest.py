"""Every channel passes one contract suite. Each adapter brings a harness: the real
channel pointed at a fake provider on loopback, and a way to read what the fake received.

A harness lives in ``tests/integration/channels/harness_<name>.py`` and names its fixture in a
module-level ``HARNESS`` string; this file finds them, so adding a channel touches no
shared file.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

_names: list[str] = []
for _path in sorted(Path(__file__).parent.glob("harness_*.py")):
    _module = importlib.import_module(f"tests.integration.channels.{_path.stem}")
    _fixture = getattr(_module, "HARNESS", None)
    if _fixture:
        globals()[_fixture] = getattr(_module, _fixture)
        _names.append(_fixture)


@pytest.fixture(params=_names)
def harness(request: pytest.FixtureRequest) -> object:
    return request.getfixturevalue(request.param)
