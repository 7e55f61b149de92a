"""Reading the files p2psim is given: UTF-8 TOML, refused by name when it is anything else.

A scenario, an experiment, a board or an estimation file is read here (:func:`read_toml_file`):
a missing file, a folder, a file that is not UTF-8 (Chinese saved as GBK is recognised), NUL
bytes, TOML that does not parse or nests too deep, and an empty file are each one message naming
the file. A file of another kind than the command takes names its command (:func:`not_a_scenario`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

OTHER_FILES = {"estimation": ("an estimation file", "p2psim estimate"),
               "schemes": ("a board of protection schemes", "p2psim board"),
               "experiment": ("an experiment file", "p2psim experiment")}
"""A file's top table that says it is not a scenario: what it is, and the command it is for."""


def is_industry(path: Path, tables: dict, error: type[Exception]) -> bool:
    """Whether the scenario at ``path`` (read as ``tables``) is an industry, by itself or its bases.

    A file of another kind (an experiment, a board, an estimation) raises ``error`` naming its
    command.
    """
    from sim.scenario.based_on import with_base

    other = not_a_scenario(path, tables)
    if other:
        raise error(other)
    merged = with_base(path, tables, lambda base: read_toml_file(base, "scenario", error), error)
    return "industry" in merged


def not_a_scenario(path: Path, tables: dict) -> str | None:
    """Why the file at ``path`` (read as ``tables``) is not a scenario, naming its command; or None."""
    for table, (what, command) in OTHER_FILES.items():
        if table in tables:
            return f"{path}: {table}: this is {what}, not a scenario; run it with `{command} {path}`"
    return None


def file_fault(path: Path) -> str | None:
    """Why ``path`` is not a file that can be opened, or None if it is one.

    "no such file", "is a folder", or the system's reason for a name it cannot look up (one too
    long for the file system, say).
    """
    try:
        if path.is_dir():
            return "is a folder"
        return None if path.is_file() else "no such file"
    except OSError as error:  # e.g. a name longer than the file system allows
        return (error.strerror or str(error)).lower()


def shortened(path: Path | str, most: int = 120) -> str:
    """A path as a message shows it: whole up to ``most`` characters, else its ends and its length."""
    text = str(path)
    if len(text) <= most:
        return text
    return f"{text[:most // 2]}...{text[-most // 3:]} ({len(text):,} characters)"


def read_text_file(path: Path, what: str, error: type[Exception]) -> str:
    """Read a UTF-8 text file (a byte-order mark is allowed); refuse anything else, naming the file.

    Raises
    ------
    error
        If the file is missing, a folder, unreadable, or not UTF-8 text.
    """
    path = Path(path)
    fault = file_fault(path)
    if fault == "is a folder":
        raise error(f"{path}: is a folder; give the {what} file (.toml) itself")
    if fault:
        raise error(f"{path}: no such {what} file{'' if fault == 'no such file' else f' ({fault})'}")
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise error(f"{path}: is not UTF-8 text (byte 0x{data[problem.start]:02x} at position "
                    f"{problem.start}); save the {what} file as UTF-8") from None
    if "\x00" in text:
        raise error(f"{path}: is not a text file (it holds NUL bytes); give a TOML {what} file")
    return text


def read_toml_file(path: Path, what: str, error: type[Exception]) -> tuple[str, dict]:
    """The text of a TOML file and its tables (see :func:`read_text_file`); bad TOML raises ``error``."""
    text = read_text_file(path, what, error)
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML: {problem}") from None
    except RecursionError:
        raise error(f"{path}: arrays or tables nested too deeply to read (thousands of levels); "
                    f"no key of a {what} nests more than a few") from None
    tables = without_negative_zero(tables)
    if not tables:
        raise error(f"{path}: holds no settings (an empty file, or comments only); give a TOML "
                    f"{what} file, e.g. one of the shipped ones")
    garbled = _gbk_read_as_utf8(tables)
    if garbled:
        raise error(f"{path}: {garbled[0]!r} looks like GBK text read as UTF-8 (it reads "
                    f"{garbled[1]!r} in GBK); save the {what} file as UTF-8")
    return text, tables


def _gbk_read_as_utf8(tables: Any) -> tuple[str, str] | None:
    """A key or string of ``tables`` that is Chinese saved as GBK whose bytes are valid UTF-8.

    Such bytes decode to letters of the two-byte UTF-8 range (U+0080 to U+07FF: "平台" in GBK reads
    "ƽ̨"); a string whose non-ASCII letters are all in that range and whose bytes read in GBK are
    all Chinese characters (CJK ideographs) is taken for one. Comments are not looked at.
    """
    stack = [tables]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            wide = [c for c in item if ord(c) > 0x7F]
            if not wide or not all(ord(c) <= 0x7FF for c in wide):
                continue
            try:
                chinese = item.encode("utf-8").decode("gbk")
            except UnicodeDecodeError:
                continue
            if all(0x4E00 <= ord(c) <= 0x9FFF for c in chinese if ord(c) > 0x7F):
                return item, chinese
    return None


def without_negative_zero(value: Any) -> Any:
    """``value`` with every -0.0 read as 0.0 (numpy refuses a scale of -0.0 that ``>= 0`` allows)."""
    if isinstance(value, dict):
        return {key: without_negative_zero(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_negative_zero(item) for item in value]
    if isinstance(value, float) and value == 0.0:
        return 0.0
    return value
