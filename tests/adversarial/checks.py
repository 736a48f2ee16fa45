"""Checks the adversarial tests share."""

from __future__ import annotations


def one_error_line(err: str, *needles: str) -> str:
    """The one ``selfheal: error:`` line of a failed command (no traceback), holding ``needles``."""
    lines = [line for line in err.splitlines() if line.startswith("selfheal: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
