"""Reading inputs defensively and writing outputs atomically.

Every output goes to a temporary file in the destination folder and is renamed over the
target, so a crash or a bad input never leaves a half-written or emptied file behind.
Every input is read with a size bound and parsed with errors translated to
:class:`~selfheal.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from selfheal.errors import InputError, OutputError

__all__ = [
    "MAX_INPUT_BYTES",
    "atomic_writer",
    "read_bytes",
    "read_json",
    "read_text",
    "read_yaml",
    "write_json",
    "write_text",
]

#: Inputs larger than this are refused (a hostile or runaway report); override per call.
MAX_INPUT_BYTES = 512 * 1024 * 1024


def read_bytes(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file, at most ``max_bytes`` of them.

    FIFOs, sockets and devices (``/dev/zero``) are refused before they are read (a FIFO is
    opened non-blocking, so a missing writer cannot hang us); the size cap is enforced while
    reading, not trusted from ``stat`` (a file may grow, and ``/proc`` files report 0).
    """
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise InputError(p, "file not found") from None
    except OSError as exc:
        raise InputError(p, f"cannot read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputError(p, "is a directory, expected a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(p, f"is not a regular file ({_file_kind(info.st_mode)}), expected a file")
    if info.st_size > max_bytes:
        raise InputError(p, f"file is {info.st_size:,} bytes, larger than the limit of {max_bytes:,}")
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(p, f"cannot read ({exc.strerror or exc})") from exc
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped between stat and open
            raise InputError(p, f"is not a regular file ({_file_kind(opened.st_mode)}), expected a file")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise InputError(p, f"file is larger than the limit of {max_bytes:,} bytes")
    except OSError as exc:
        raise InputError(p, f"cannot read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)
    return b"".join(chunks)


_READ_CHUNK = 1024 * 1024


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for check, name in kinds if check(mode)), "not a plain file")


def read_text(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """Read a UTF-8 text file, refusing missing, oversized, non-regular or undecodable files.

    Lone surrogates that arrive as JSON escapes are dealt with by the callers' scrubbing; raw
    bytes must be valid UTF-8.
    """
    data = read_bytes(path, max_bytes=max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from exc


def read_json(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> Any:
    """Parse a JSON file; malformed JSON becomes one InputError naming file, line and column."""
    text = read_text(path, max_bytes=max_bytes)
    if not text.strip():
        raise InputError(path, "file is empty, expected JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise InputError(path, "JSON nested too deeply") from exc
    if _SURROGATE_ESCAPE.search(text):
        try:
            return _without_surrogates(data)
        except RecursionError as exc:
            raise InputError(path, "JSON nested too deeply") from exc
    return data


#: A ``\uD800``-``\uDFFF`` escape: JSON may carry half of a UTF-16 pair (a truncated emoji).
_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD (valid pairs were already joined
    by the JSON parser), so the text can always be encoded, hashed and written."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


#: Most nodes a YAML file may expand to once its aliases are followed (an alias bomb,
#: "billion laughs", expands exponentially: nine aliases of nine aliases of … ).
MAX_YAML_NODES = 100_000


def read_yaml(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES, max_nodes: int = MAX_YAML_NODES) -> Any:
    """Parse a YAML file safely: size-capped, plain data only, bounded alias expansion.

    The document is composed first (aliases stay references, nothing is expanded) and its
    expanded size counted; only a document within ``max_nodes`` is built, so an alias bomb
    is refused in milliseconds instead of eating the memory.
    """
    import yaml  # only `selfheal run --params` reads YAML: imported on use

    text = read_text(path, max_bytes=max_bytes)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            expanded = _expanded_size(root, {}, set())
            if expanded > max_nodes:
                raise InputError(
                    path,
                    f"YAML expands to more than {max_nodes:,} nodes through its aliases (an alias bomb?)",
                )
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(path, f"malformed YAML ({' '.join(str(exc).split())})") from exc
    except RecursionError as exc:
        raise InputError(path, "YAML nested too deeply") from exc


def _expanded_size(node: Any, sizes: dict[int, int], open_nodes: set[int]) -> int:
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise RecursionError("a YAML alias refers to its own anchor")
    open_nodes.add(key)
    value = node.value
    if isinstance(value, list):
        total = 1
        for item in value:
            parts = item if isinstance(item, tuple) else (item,)
            total += sum(_expanded_size(part, sizes, open_nodes) for part in parts)
    else:
        total = 1
    open_nodes.discard(key)
    sizes[key] = total
    return total


@contextmanager
def atomic_writer(path: str | Path, *, mode: str = "w") -> Iterator[IO[Any]]:
    """Yield a file in the target's folder; on success rename it over ``path``, else delete it.

    The data is flushed and fsync'ed before the rename, so ``path`` holds either the old or
    the complete new content. Any failure to write (disk full, read-only file system, no
    permission, a file where the folder should be) raises :class:`OutputError` naming the
    file, and leaves the earlier file untouched. Text is UTF-8; a lone surrogate that slipped
    through becomes ``?`` instead of failing the write.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise OutputError(target, "is a directory, expected a file")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(_failed_path(exc, target), f"cannot write ({_reason(exc)})") from exc
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file 0600; an output is as readable as any other file (umask),
        # or keeps the mode of the file it replaces.
        os.fchmod(fd, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
        if "b" in mode:
            handle: IO[Any] = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding="utf-8", errors="replace")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(target, f"cannot write ({_reason(exc)}); the earlier file is unchanged") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _failed_path(exc: OSError, fallback: Path) -> str:
    return str(exc.filename) if exc.filename else str(fallback)


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
