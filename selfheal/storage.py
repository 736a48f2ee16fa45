"""Reading inputs defensively and writing outputs atomically.

Every output goes to a temporary file in the destination folder and is renamed over the
target, so a crash or a bad input never leaves a half-written or emptied file behind.
Every input is read with a size bound and parsed with errors translated to
:class:`~selfheal.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from selfheal.errors import InputError

__all__ = ["MAX_INPUT_BYTES", "atomic_writer", "read_json", "read_text", "write_json", "write_text"]

#: Inputs larger than this are refused (a hostile or runaway report); override per call.
MAX_INPUT_BYTES = 512 * 1024 * 1024


def read_text(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """Read a UTF-8 text file, refusing missing, oversized or undecodable files."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(p, "file not found") from None
    except OSError as exc:
        raise InputError(p, f"cannot read ({exc.strerror})") from exc
    if p.is_dir():
        raise InputError(p, "is a directory, expected a file")
    if size > max_bytes:
        raise InputError(p, f"file is {size:,} bytes, larger than the limit of {max_bytes:,}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(p, f"not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(p, f"cannot read ({exc.strerror})") from exc


def read_json(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> Any:
    """Parse a JSON file; malformed JSON becomes one InputError naming file, line and column."""
    text = read_text(path, max_bytes=max_bytes)
    if not text.strip():
        raise InputError(path, "file is empty, expected JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise InputError(path, "JSON nested too deeply") from exc


@contextmanager
def atomic_writer(path: str | Path, *, mode: str = "w") -> Iterator[IO[Any]]:
    """Yield a file in the target's folder; on success rename it over ``path``, else delete it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file 0600; an output is as readable as any other file (umask),
        # or keeps the mode of the file it replaces.
        os.fchmod(fd, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: str | Path, text: str) -> Path:
    """Write text atomically and return the path."""
    with atomic_writer(path) as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON (UTF-8, indented, stable key order as given) atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return write_text(path, text)
