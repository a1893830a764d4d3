"""The expected-streams CSV: ``name,method,expected_rate,warn_interval,fail_interval``.

A file is validated whole before anything is written: a missing or unknown column,
an empty name, a non-numeric or negative value, a fractional interval, a duplicate
(name, method), an empty file, bytes that are not UTF-8 or text that is not CSV
each give an ExpectedCsvError naming the file, the line and the field. Loading then
upserts every row by (name, method) in the caller's single transaction.
"""

from __future__ import annotations

import _csv
import csv
import math
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ooi_status import revision
from ooi_status.model.monitor import ExpectedStream

COLUMNS = ("name", "method", "expected_rate", "warn_interval", "fail_interval")


class ExpectedCsvError(ValueError):
    """The file cannot be loaded; the message names file, line and field."""


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    name: str
    method: str
    expected_rate: float
    warn_interval: int
    fail_interval: int


def read_expected_csv(path: str | Path) -> list[ExpectedRow]:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ExpectedCsvError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = Path(path).read_bytes()[: exc.start].count(b"\n") + 1
        raise ExpectedCsvError(f"{path}, line {line}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise ExpectedCsvError(
            f"{path}, line {text[: text.index(chr(0))].count(chr(10)) + 1}: not CSV text (NUL byte)"
        )
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ExpectedCsvError(f"{path}, line 1: empty file, expected the header {','.join(COLUMNS)}")
        _check_header(path, [cell.strip() for cell in header])
        return _rows(path, [cell.strip() for cell in header], reader)
    except csv.Error as exc:
        raise ExpectedCsvError(f"{path}, line {reader.line_num}: not valid CSV: {exc}") from None


def _check_header(path: str | Path, header: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing:
        raise ExpectedCsvError(
            f"{path}, line 1: missing column {', '.join(missing)} (header must be {','.join(COLUMNS)})"
        )
    if unknown:
        raise ExpectedCsvError(
            f"{path}, line 1: unknown column {', '.join(unknown)} (header must be {','.join(COLUMNS)})"
        )
    if len(set(header)) != len(header):
        raise ExpectedCsvError(f"{path}, line 1: a column is named twice")


def _rows(path: str | Path, header: list[str], reader: _csv.Reader) -> list[ExpectedRow]:
    rows: list[ExpectedRow] = []
    seen: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise ExpectedCsvError(f"{path}, line {line}: {len(cells)} fields, the header has {len(header)}")
        record = dict(zip(header, (c.strip() for c in cells), strict=True))
        row = _row(path, line, record)
        key = (row.name, row.method)
        if key in seen:
            raise ExpectedCsvError(
                f"{path}, line {line}: field name,method: duplicate {row.name},{row.method} "
                f"(first on line {seen[key]})"
            )
        seen[key] = line
        rows.append(row)
    return rows


def _row(path: str | Path, line: int, record: dict[str, str]) -> ExpectedRow:
    for field in ("name", "method"):
        if not record[field]:
            raise ExpectedCsvError(f"{path}, line {line}: field {field}: empty")
    return ExpectedRow(
        record["name"],
        record["method"],
        _number(path, line, "expected_rate", record["expected_rate"], integer=False),
        int(_number(path, line, "warn_interval", record["warn_interval"], integer=True)),
        int(_number(path, line, "fail_interval", record["fail_interval"], integer=True)),
    )


def _number(path: str | Path, line: int, field: str, text: str, *, integer: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ExpectedCsvError(f"{path}, line {line}: field {field}: not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ExpectedCsvError(f"{path}, line {line}: field {field}: not a finite number: {text!r}")
    if value < 0:
        raise ExpectedCsvError(f"{path}, line {line}: field {field}: negative: {text}")
    if integer and value != int(value):
        raise ExpectedCsvError(f"{path}, line {line}: field {field}: seconds must be a whole number: {text}")
    return value


def upsert_expected(session: Session, rows: list[ExpectedRow]) -> tuple[int, int]:
    """Insert or update by (name, method) in the caller's transaction; returns (created, updated).

    A load that changed a row moves the data revision in the same transaction."""
    existing = {(e.name, e.method): e for e in session.scalars(select(ExpectedStream))}
    created = updated = 0
    for row in rows:
        current = existing.get((row.name, row.method))
        if current is None:
            session.add(
                ExpectedStream(
                    name=row.name,
                    method=row.method,
                    expected_rate=row.expected_rate,
                    warn_interval=row.warn_interval,
                    fail_interval=row.fail_interval,
                )
            )
            created += 1
        elif (current.expected_rate, current.warn_interval, current.fail_interval) != (
            row.expected_rate,
            row.warn_interval,
            row.fail_interval,
        ):
            current.expected_rate = row.expected_rate
            current.warn_interval = row.warn_interval
            current.fail_interval = row.fail_interval
            updated += 1
    session.flush()
    if created or updated:
        revision.bump(session)
    return created, updated
