"""CSV downloads and the JSON Lines file of everything public, written as streams.

Rows are read in batches by key and written out batch by batch, so the memory a download
takes does not grow with the number of rows (bench/csv_memory.py measures it).
"""

import csv
import io
import json
from collections.abc import Iterator

from pipeline.services import open_data
from pipeline.services.public_data import batches, timestamp
from pipeline.timeutil import utcnow

# A spreadsheet treats a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int:
    """A value as a CSV cell; text that a spreadsheet would run as a formula starts with ' instead."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_lines(record: open_data.RecordType) -> Iterator[str]:
    """A CSV file of every public record of one type: a header row, then a row per record (UTF-8, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in open_data.columns_of(record)])
    yield buffer.getvalue()
    for batch in batches(record.query(), record.id_column):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([safe_cell(cell) for cell in row] for row in record.to_csv(batch))
        yield buffer.getvalue()


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def json_lines() -> Iterator[str]:
    """Everything public, one JSON object a line: {"type": ..., "data": ...}; the first line says what the file is."""
    about = {
        "title": "Pipeline open data",
        "generated_at": timestamp(utcnow()),
        "record_types": [record.name for record in open_data.RECORD_TYPES],
        "licences": {r.name: open_data.LICENCES[r.licence]["attribution"] for r in open_data.RECORD_TYPES},
    }
    yield _line({"type": "dataset", "data": about})
    for record in open_data.RECORD_TYPES:
        for batch in batches(record.query(), record.id_column):
            yield "".join(_line({"type": record.name, "data": item}) for item in record.to_public(batch))
