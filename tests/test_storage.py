"""Atomic writes: all or nothing, readable like any other file, nothing left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selfheal.errors import InputError
from selfheal.storage import atomic_writer, read_json, write_json, write_text


def test_written_files_follow_the_umask_not_mkstemps_0600(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        path = write_json(tmp_path / "out.json", [1])
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o600)
        write_text(path, "[2]")  # replacing a file keeps its mode
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(mask)


def test_a_failure_while_writing_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    path.write_text("old")

    def crash_mid_write() -> None:
        with atomic_writer(path) as handle:
            handle.write("half")
            raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError, match="crash mid-write"):
        crash_mid_write()
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tasks.json"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{", "malformed JSON at line 1 column 2"),
        (b"   ", "file is empty"),
        (b"\xff\xfe\x00", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    ],
)
def test_bad_json_is_one_input_error_naming_the_file(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_json(path)
    assert str(info.value).startswith(f"{path}: ")
    assert problem in str(info.value)


def test_oversized_and_missing_inputs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text("[" + "1," * 1000 + "1]")
    with pytest.raises(InputError, match="larger than the limit of 100"):
        read_json(path, max_bytes=100)
    with pytest.raises(InputError, match="file not found"):
        read_json(tmp_path / "nope.json")
    with pytest.raises(InputError, match="is a directory"):
        read_json(tmp_path)
