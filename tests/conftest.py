"""Shared test helpers: fixture paths and tiny builders. No patching of selfheal's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real tokens or service settings (kernels inherit os.environ)."""
    import os

    for name in list(os.environ):
        if name.startswith(("SENTRY_", "GITHUB_", "BUGSINK_")):
            monkeypatch.delenv(name)
