"""One set of typed readers (selfheal._readers) for selfheal.toml keys, environment variables and
notebook parameters: the same rule and the same one-line error, naming the setting, wherever a
value comes from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from selfheal import pipeline
from selfheal._readers import (
    env_int,
    env_url,
    read_bool,
    read_choice,
    read_int,
    read_number,
    read_seconds,
    read_severity,
    read_str,
    read_strings,
    read_table,
)
from selfheal.config import load_config, parse_config
from selfheal.errors import ConfigError
from selfheal.models import SEVERITIES
from selfheal.runner import check_param_types
from selfheal.settings import SentrySettings, min_frequency_from_env


def _problem(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)
    text = str(caught.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("call", "value", "message"),
    [
        (read_int, "10", "configuration x: must be a whole number >= 0, got '10'"),
        (read_int, True, "configuration x: must be a whole number >= 0, got True"),
        (read_int, 2.5, "configuration x: must be a whole number >= 0, got 2.5"),
        (read_int, -1, "configuration x: must be a whole number >= 0, got -1"),
        (read_number, "3", "configuration x: must be a number >= 0, got '3'"),
        (read_number, False, "configuration x: must be a number >= 0, got False"),
        (read_number, -0.5, "configuration x: must be a number >= 0, got -0.5"),
        (read_seconds, 0, "configuration x: must be a number of seconds > 0, got 0"),
        (read_bool, "false", "configuration x: must be true or false (without quotes), got 'false'"),
        (read_str, "", "configuration x: must be a non-empty string, got ''"),
        (read_str, ["a"], "configuration x: must be a non-empty string, got ['a']"),
        (read_strings, "selfheal", 'configuration x: must be an array of strings, like ["selfheal"], got'),
        (read_strings, ["a", ""], "configuration x: must be an array of non-empty strings, got ['a', '']"),
        (read_table, 3, "configuration x: must be a table, got 3"),
        (
            read_severity,
            "critical",
            "configuration x: must be one of blocker, high, medium, low, got 'critical'",
        ),
    ],
)
def test_each_reader_refuses_a_wrong_value_in_one_line_naming_the_setting(
    call: object, value: object, message: str
) -> None:
    assert _problem(call, value, "x").startswith(message)


def test_readers_return_the_typed_value() -> None:
    assert read_int(0, "x") == 0
    assert read_int(-5, "x", minimum=None) == -5
    assert read_number(3, "x") == 3.0
    assert isinstance(read_number(3, "x"), float)
    assert read_seconds(1.5, "x") == 1.5
    assert read_bool(False, "x") is False
    assert read_str("", "x", empty=True) == ""
    assert read_strings(["a", "b"], "x") == ("a", "b")
    assert read_choice("any", "x", ("title", "any")) == "any"
    assert [read_severity(s, "x") for s in SEVERITIES] == list(SEVERITIES)


def test_a_long_refused_value_is_cut_in_the_message() -> None:
    text = _problem(read_int, "9" * 500, "x")
    assert len(text) < 120
    assert text.endswith("…")


def test_an_environment_variable_and_a_config_key_get_the_same_rule_and_message(tmp_path: Path) -> None:
    from_env = _problem(env_int, {"SENTRY_ERROR_LIMIT": "-3"}, "SENTRY_ERROR_LIMIT", 10)
    assert from_env == "configuration SENTRY_ERROR_LIMIT: must be a whole number >= 0, got -3"
    (tmp_path / "selfheal.toml").write_text("[pr]\nmax_new = -3\n")
    from_toml = _problem(load_config, tmp_path)
    assert from_toml == "configuration selfheal.toml.pr.max_new: must be a whole number >= 0, got -3"
    assert from_env.split(": ", 1)[1] == from_toml.split(": ", 1)[1]
    text = _problem(env_int, {"SENTRY_ERROR_LIMIT": "ten"}, "SENTRY_ERROR_LIMIT", 10)
    assert text == "configuration SENTRY_ERROR_LIMIT: must be a whole number >= 0, got 'ten'"


def test_environment_readers_take_the_default_when_unset_or_blank() -> None:
    assert env_int({}, "N", 10) == 10
    assert env_int({"N": "  "}, "N", 10) == 10
    assert env_int({"N": " 7 "}, "N", 10) == 7
    assert env_url({}, "U", "https://sentry.io") == "https://sentry.io"
    assert env_url({"U": "https://de.sentry.io/"}, "U", "https://sentry.io") == "https://de.sentry.io"
    text = _problem(env_url, {"U": "ftp://user:s3cret@host"}, "U", "")
    assert "s3cret" not in text


def test_sentry_settings_read_the_limit_and_url_with_the_readers() -> None:
    env = {"SENTRY_AUTH_TOKEN": "t", "SENTRY_ORG": "acme", "SENTRY_ERROR_LIMIT": "7"}
    assert SentrySettings.from_env(env).limit == 7
    assert SentrySettings.from_env({**env, "SENTRY_ERROR_LIMIT": ""}).limit == 10
    text = _problem(SentrySettings.from_env, {**env, "SENTRY_BASE_URL": "sentry.io"})
    assert text == "configuration SENTRY_BASE_URL: must be an http(s) URL, got 'sentry.io'"


def test_min_frequency_from_the_environment_has_the_range_check() -> None:
    assert min_frequency_from_env({}) is None
    assert min_frequency_from_env({"SENTRY_ERROR_MIN_FREQUENCY": ""}) is None
    assert min_frequency_from_env({"SENTRY_ERROR_MIN_FREQUENCY": "0"}) == 0
    assert min_frequency_from_env({"SENTRY_ERROR_MIN_FREQUENCY": "5"}) == 5
    for raw in ("-1", "two"):
        text = _problem(min_frequency_from_env, {"SENTRY_ERROR_MIN_FREQUENCY": raw})
        assert text.startswith("configuration SENTRY_ERROR_MIN_FREQUENCY: must be a whole number >= 0")


def test_min_frequency_has_one_default() -> None:
    assert parse_config({}, base=Path()).min_frequency == 2
    assert "min_frequency" not in SentrySettings.__dataclass_fields__


def test_normalize_refuses_a_negative_min_frequency_in_the_environment(tmp_path: Path) -> None:
    export = pipeline.sample_path("sentry_errors.json")
    with pytest.raises(
        ConfigError, match=re.escape("SENTRY_ERROR_MIN_FREQUENCY: must be a whole number >= 0")
    ):
        pipeline.normalize(
            tmp_path, sentry=export, config_root=tmp_path, environ={"SENTRY_ERROR_MIN_FREQUENCY": "-2"}
        )
    assert not (tmp_path / "patchtasks.json").exists()


@pytest.mark.parametrize(
    ("declared", "value", "message"),
    [
        (
            "int",
            "ten",
            "configuration params.p: must be a whole number, got 'ten' (nb.ipynb declares it as int)",
        ),
        (
            "int",
            True,
            "configuration params.p: must be a whole number, got True (nb.ipynb declares it as int)",
        ),
        (
            "float",
            "0.5",
            "configuration params.p: must be a number, got '0.5' (nb.ipynb declares it as float)",
        ),
        ("str", 3, "configuration params.p: must be a string, got 3 (nb.ipynb declares it as str)"),
        ("bool", "yes", "configuration params.p: must be true or false (without quotes), got 'yes'"),
        ("list", "a", "configuration params.p: must be a list, got 'a' (nb.ipynb declares it as list)"),
        ("dict", [], "configuration params.p: must be a table, got [] (nb.ipynb declares it as dict)"),
    ],
)
def test_notebook_parameters_are_checked_by_the_same_readers(
    declared: str, value: object, message: str
) -> None:
    declarations = {Path("nb.ipynb"): {"p": {"inferred_type_name": declared}}}
    assert _problem(check_param_types, {"p": value}, declarations).startswith(message)


def test_notebook_parameters_of_the_declared_type_pass() -> None:
    declarations = {
        Path("nb.ipynb"): {
            "i": {"inferred_type_name": "int"},
            "f": {"inferred_type_name": "float"},
            "s": {"inferred_type_name": "str"},
            "n": {"inferred_type_name": "None"},
        }
    }
    check_param_types({"i": -1, "f": 2, "s": "", "n": object()}, declarations)
