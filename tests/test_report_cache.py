"""The Vega JavaScript inlined in every report is kept between runs (building it takes ~1.4 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.reporting.html import bundle_file, cache_folder, cached_vega_javascript


def test_the_cache_folder_follows_xdg_cache_home_and_ignores_a_relative_one() -> None:
    assert cache_folder({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/selfheal")
    assert cache_folder({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "selfheal"
    assert cache_folder({}) == Path.home() / ".cache" / "selfheal"


def test_a_kept_bundle_is_read_back_not_built_again(tmp_path: Path) -> None:
    kept = "/* kept by an earlier run */ window.vegaEmbed = function () {};"
    bundle_file(tmp_path).write_text(kept, encoding="utf-8")
    assert cached_vega_javascript(tmp_path) == kept


@pytest.mark.slow
def test_a_missing_or_damaged_bundle_is_built_and_kept(tmp_path: Path) -> None:
    path = bundle_file(tmp_path)
    path.write_text("window.vegaEm", encoding="utf-8")  # cut short by a full disk
    built = cached_vega_javascript(tmp_path)
    assert "vegaEmbed" in built
    assert len(built) > 100_000
    assert "</script" not in built, "the bundle never closes the element that holds it"
    assert path.read_text(encoding="utf-8") == built
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left behind"


@pytest.mark.slow
def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert "vegaEmbed" in cached_vega_javascript(blocked)
    assert blocked.read_text(encoding="utf-8") == "not a folder"
