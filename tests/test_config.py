"""The configuration: documented defaults are the real defaults, and bad values are one clear error."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from selfheal.config import Config, load_config, parse_config
from selfheal.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _documented_tables() -> list[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    return re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)


def test_the_documented_defaults_are_the_defaults() -> None:
    everything = tomllib.loads(_documented_tables()[0])["tool"]["selfheal"]
    documented = parse_config(everything, base=Path())
    defaults = Config()
    assert documented.min_frequency == defaults.min_frequency
    assert documented.default_owner == defaults.default_owner
    assert documented.rules_file == defaults.rules_file
    assert documented.pr == defaults.pr
    for name in (
        "users_high",
        "users_blocker",
        "frequency_high",
        "frequency_blocker",
        "trend_high",
        "trend_min_events",
    ):
        assert getattr(documented.severity, name) == getattr(defaults.severity, name), name


def test_selfheal_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.selfheal]\nmin_frequency = 7\n")
    assert load_config(tmp_path).min_frequency == 7
    (tmp_path / "selfheal.toml").write_text("min_frequency = 3\n")
    config = load_config(tmp_path)
    assert config.min_frequency == 3
    assert config.source_file == tmp_path / "selfheal.toml"
    assert load_config(tmp_path / "nothing-here") == Config(repo_root=tmp_path / "nothing-here")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[severity.rules]]\npattern = "("\nseverity = "high"\n',
            "severity.rules[0].pattern: invalid regular",
        ),
        (
            '[[severity.rules]]\npattern = "x"\nseverity = "urgent"\n',
            "must be one of blocker, high, medium, low",
        ),
        # "mobile" became an area (issue 12: mobile SDKs); an area outside AREAS is still refused
        ('[[owners]]\npattern = "^a/"\nowner = "x"\narea = "spaceship"\n', "owners[0].area"),
        ("[pr]\nmax_new = -1\n", "pr.max_new: must be a whole number >= 0"),
        (f'[pr]\nlabels = ["{"x" * 51}"]\n', "longer than GitHub's 50 characters"),
        ("severity = 3\n", "severity: must be a table"),
        ("min_frequency = [\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_one_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "selfheal.toml").write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
