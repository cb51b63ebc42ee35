"""Reading a CSV file as a stream of records: encoding, delimiter, marker, physical lines.

Nothing here holds more than one record: memory stays flat in the size of the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bookwise.csvsafe import EXPORT_MARKER
from bookwise.errors import InvalidInput

MAX_FIELD = 10_000
MAX_COLUMNS = 500
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Record:
    """One CSV record and the physical line its first line is on."""

    line: int
    cells: list[str]


@dataclass
class CsvSource:
    """An open CSV file: its header, encoding, delimiter, and a stream of records."""

    path: Path
    encoding: str
    delimiter: str
    exported: bool
    header: list[str]
    header_line: int
    records: Iterator[Record]


def detect_encoding(head: bytes, explicit: str | None) -> str:
    """The encoding named by a BOM, else the one given, else strict UTF-8."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if explicit:
        try:
            codecs.lookup(explicit)
        except LookupError:
            raise InvalidInput(f"unknown encoding {explicit!r}") from None
        return explicit
    return "utf-8"


def detect_delimiter(header_line: str) -> str:
    """``;`` when the header line has more semicolons than commas outside quotes, else ``,``."""
    outside = "".join(part for i, part in enumerate(header_line.split('"')) if i % 2 == 0)
    return ";" if outside.count(";") > outside.count(",") else ","


def open_csv(path: Path, *, encoding: str | None = None) -> CsvSource:
    """Open ``path`` for streaming; read the marker line (if any) and the header."""
    raw: BinaryIO = path.open("rb")
    head = raw.read(4)
    raw.seek(0)
    name = detect_encoding(head, encoding)
    counter = _LineCounter(raw, path, name, explicit=encoding is not None)
    first = counter.readline()
    exported = first.rstrip("\r\n") == EXPORT_MARKER
    header_text = counter.readline() if exported else first
    if not header_text.strip():
        raise InvalidInput(f"{path.name}: the file has no header line")
    delimiter = detect_delimiter(header_text)
    header_line = counter.line
    reader = csv.reader(_chain(header_text, counter), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InvalidInput(f"{path.name}, line {header_line}: {exc}") from None
    if len(header) > MAX_COLUMNS:
        raise InvalidInput(
            f"{path.name}: {len(header)} columns; an import file may have at most {MAX_COLUMNS}"
        )
    return CsvSource(
        path=path,
        encoding=name,
        delimiter=delimiter,
        exported=exported,
        header=header,
        header_line=header_line,
        records=_records(reader, counter, path, first_line=header_line),
    )


class _LineCounter:
    """Yields the file's physical lines, counting them, and names decoding failures."""

    def __init__(self, raw: BinaryIO, path: Path, encoding: str, *, explicit: bool):
        # UTF-16 cannot be split on b"\n"; every other supported encoding can, which lets
        # a decoding failure name its exact line.
        self.raw = raw
        self.text: io.TextIOWrapper | None = None
        if encoding.startswith("utf-16"):
            self.text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self.path = path
        self.encoding = encoding
        self.explicit = explicit
        self.line = 0

    def readline(self) -> str:
        """The next physical line (with its line break), or '' at the end."""
        try:
            if self.text is not None:
                value = self.text.readline()
            else:
                chunk = self.raw.readline()
                value = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None
        if value:
            self.line += 1
        return value

    def __iter__(self) -> Iterator[str]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        self.raw.close()

    def _decode_error(self, exc: UnicodeDecodeError) -> InvalidInput:
        bad = exc.object[exc.start : exc.start + 1].hex()
        where = f"{self.path.name}, line {self.line + 1}"
        if self.explicit:
            return InvalidInput(f"{where}: byte 0x{bad} is not valid {self.encoding}")
        return InvalidInput(
            f"{where}: byte 0x{bad} is not valid UTF-8 and the file has no UTF-16 byte-order "
            "mark; bookwise never guesses an encoding. If the file was saved by Excel on "
            "Windows, pass --encoding cp1252 (or the file's real encoding)"
        )


def _chain(first: str, rest: _LineCounter) -> Iterator[str]:
    yield first
    yield from rest


def _records(
    reader: Iterator[list[str]], counter: _LineCounter, path: Path, *, first_line: int
) -> Iterator[Record]:
    previous_end = first_line
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InvalidInput(f"{path.name}, line {counter.line}: {exc}") from None
            start = previous_end + 1
            previous_end = counter.line
            if cells and any(c.strip() for c in cells):
                yield Record(line=start, cells=cells)
    finally:
        counter.close()
