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


# --- issue 16: inputs that are not files, caps that do not trust stat, failed writes --------
def test_fifos_and_devices_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="a FIFO"):
        read_json(fifo)  # would block forever if it were opened for a blocking read
    with pytest.raises(InputError, match="a character device"):
        read_json("/dev/zero")


def test_the_size_cap_holds_when_stat_says_zero() -> None:
    from selfheal.storage import read_bytes

    status = Path("/proc/self/status")
    if not status.exists() or status.stat().st_size != 0:
        pytest.skip("needs a /proc file that reports size 0")
    with pytest.raises(InputError, match="larger than the limit of 16 bytes"):
        read_bytes(status, max_bytes=16)
    assert read_bytes(status, max_bytes=1_000_000)


def test_lone_surrogates_in_json_become_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('{"title": "cut \\ud83d", "pair": "\\ud83d\\ude00", "\\udc00k": 1}', encoding="utf-8")
    data = read_json(path)
    assert data["title"] == "cut \ufffd"
    assert data["pair"] == "\U0001f600"  # a valid pair stays the emoji
    assert "\ufffdk" in data
    write_json(tmp_path / "out.json", data)  # encodable


def test_a_yaml_alias_bomb_is_refused_and_plain_yaml_read(tmp_path: Path) -> None:
    from selfheal.storage import read_yaml

    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for index in range(1, 8):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines))
    with pytest.raises(InputError, match="alias bomb"):
        read_yaml(bomb)
    fine = tmp_path / "fine.yaml"
    fine.write_text("base: &b {limit: 3}\nother: *b\n")
    assert read_yaml(fine) == {"base": {"limit": 3}, "other": {"limit": 3}}


def test_a_write_into_a_file_instead_of_a_folder_is_an_output_error(tmp_path: Path) -> None:
    from selfheal.errors import OutputError

    blocker = tmp_path / "out"
    blocker.write_text("a file")
    with pytest.raises(OutputError, match="cannot write"):
        write_json(blocker / "tasks.json", [])
    with pytest.raises(OutputError, match="is a directory"):
        write_json(tmp_path, [])


def test_a_write_that_fails_half_way_keeps_the_earlier_file(tmp_path: Path) -> None:
    from selfheal.errors import OutputError

    path = write_text(tmp_path / "tasks.json", "earlier\n")

    def write_until_the_disk_is_full() -> None:
        with atomic_writer(path) as handle:
            handle.write("half")
            raise OSError(28, "No space left on device")  # what a full disk raises from write()

    with pytest.raises(OutputError, match="the earlier file is unchanged"):
        write_until_the_disk_is_full()
    assert path.read_text() == "earlier\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.json"]
