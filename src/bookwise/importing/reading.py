"""Reading a CSV file as a stream of records: encoding, delimiter, marker, physical lines.

Nothing here holds more than one record: memory stays flat in the size of the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bookwise.csvsafe import EXPORT_MARKER
from bookwise.errors import InvalidInput

MAX_FIELD = 10_000
NUL = "\x00"
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


# Text codecs that are not character sets of a file: they turn escapes into any character,
# unpaired surrogates included, which no database column takes.
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "punycode", "idna", "utf-7"})


def check_encoding(name: str) -> str:
    """The codec's own name for ``name``, or InvalidInput when it is not a character set."""
    try:
        canonical = codecs.lookup(name).name
        # LookupError for bytes-to-bytes codecs (base64, zlib); a UnicodeError means a
        # character set these bytes are not valid in: still a character set.
        with contextlib.suppress(UnicodeError):
            b"\n\n\n\n".decode(name)
    except LookupError:
        raise InvalidInput(
            f"unknown encoding {name!r}: name a character set such as cp1252, latin-1 or utf-16"
        ) from None
    if canonical in _NOT_CHARSETS or canonical.replace("_", "-") in _NOT_CHARSETS:
        raise InvalidInput(f"encoding {name!r} is not a character set: name one such as cp1252")
    return canonical


def detect_encoding(head: bytes, explicit: str | None) -> str:
    """The encoding named by a BOM, else the one given, else strict UTF-8."""
    if explicit:
        explicit = check_encoding(explicit)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return explicit or "utf-8"


def detect_delimiter(header_line: str) -> str:
    """``;`` when the header line has more semicolons than commas outside quotes, else ``,``."""
    outside = "".join(part for i, part in enumerate(header_line.split('"')) if i % 2 == 0)
    return ";" if outside.count(";") > outside.count(",") else ","


def open_csv(
    path: Path, *, encoding: str | None = None, stream: BinaryIO | None = None
) -> CsvSource:
    """Open ``path`` for streaming (or read ``stream``, an open binary file that ``path``
    only names, from its start); read the marker line (if any) and the header."""
    raw: BinaryIO = stream if stream is not None else path.open("rb")
    raw.seek(0)
    head = raw.read(4)
    raw.seek(0)
    name = detect_encoding(head, encoding)
    counter = _LineCounter(raw, path, name, explicit=encoding is not None, owned=stream is None)
    first = counter.readline()
    exported = first.rstrip("\r\n") == EXPORT_MARKER
    header_text = counter.readline() if exported else first
    if not header_text.strip():
        raise InvalidInput(f"{path.name}: the file has no header line")
    delimiter = detect_delimiter(header_text)
    header_line = counter.line
    counter.pending.append(header_text)
    reader = csv.reader(_chain(header_text, counter), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise _syntax_error(exc, counter, path, header_line, delimiter) from None
    counter.pending.clear()
    if any(NUL in cell for cell in header):
        raise InvalidInput(f"{path.name}, line {header_line}: the header holds a NUL character")
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
        records=_records(reader, counter, path, first_line=counter.line, delimiter=delimiter),
    )


class _LineCounter:
    """Yields the file's physical lines, counting them, and names decoding failures."""

    def __init__(self, raw: BinaryIO, path: Path, encoding: str, *, explicit: bool, owned: bool):
        # UTF-16 (or any encoding whose line break is not the byte \n) cannot be split on
        # b"\n"; every other one can, which lets a decoding failure name its exact line.
        self.raw = raw
        self.owned = owned  # opened here, so closed here (a caller's stream stays open)
        self.text: io.TextIOWrapper | None = None
        self.pending: list[str] = []  # the lines of the record being read (for its errors)
        if "\n".encode(encoding) != b"\n":
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
            self.pending.append(value)
        return value

    def __iter__(self) -> Iterator[str]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        if self.text is not None:
            self.text.detach()  # else the wrapper closes the file it wraps when collected
        if self.owned:
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
    reader: Iterator[list[str]],
    counter: _LineCounter,
    path: Path,
    *,
    first_line: int,
    delimiter: str,
) -> Iterator[Record]:
    previous_end = first_line
    try:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _syntax_error(exc, counter, path, previous_end + 1, delimiter) from None
            counter.pending.clear()
            start = previous_end + 1
            previous_end = counter.line
            if cells and any(c.strip() for c in cells):
                yield Record(line=start, cells=cells)
    finally:
        counter.close()


def _syntax_error(
    exc: csv.Error, counter: _LineCounter, path: Path, start: int, delimiter: str
) -> InvalidInput:
    """The error that stops the import, on the line where the record went wrong."""
    opened = _open_quote_line(counter.pending, start, delimiter)
    if opened is not None:
        return InvalidInput(
            f"{path.name}, line {opened}: a quoted cell opens here and is never closed "
            f"(the file ends, or the cell passes {csv.field_size_limit():,} characters, "
            'inside it); close the quote, or double a quote inside a cell (""). '
            "Nothing was imported"
        )
    return InvalidInput(
        f"{path.name}, line {counter.line}: {exc} (a quote inside a quoted cell must be "
        "doubled). Nothing was imported"
    )


def _open_quote_line(lines: list[str], start: int, delimiter: str) -> int | None:
    """The line on which the record's last quoted cell opened, if it never closed."""
    quoted, at_start, after_quote, opened = False, True, False, None
    for number, line in enumerate(lines, start):
        for char in line:
            if quoted:
                if char == '"':
                    quoted, after_quote = False, True
                continue
            if after_quote and char == '"':  # a doubled quote: still inside the cell
                quoted, after_quote = True, False
                continue
            after_quote = False
            if at_start and char == '"':
                quoted, opened = True, number
            at_start = char in (delimiter, "\r", "\n")
    return opened if quoted else None
