"""One table, three shapes: the JSON of ``GET /api/stats`` (docs/protocol.md), and the CSV and
JSON that the console's export and ``kinline report`` give. Every consumer formats through here,
so the numbers and the suppression marks are the same everywhere."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from server.domain.statistics.tables import Table

SUPPRESSED_MARK = "<{min_cell}"


def table_json(table: Table, first: str, last: str) -> dict[str, Any]:
    return {
        "from": first,
        "to": last,
        "by": list(table.by),
        "min_cell": table.min_cell,
        "rows": [
            {
                "key": dict(zip(table.by, cell.key, strict=True)),
                "count": cell.count,
                "suppressed": cell.suppressed,
            }
            for cell in table.cells
        ],
        "total": table.total,
    }


def table_json_text(table: Table, first: str, last: str) -> str:
    return json.dumps(table_json(table, first, last), ensure_ascii=False, indent=2) + "\n"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def table_csv(table: Table) -> str:
    """One row per cell: the dimensions, then ``count`` (``<5`` when suppressed); a last row
    ``total`` (``<5`` when withheld). The first column of the total row says ``total``."""
    mark = SUPPRESSED_MARK.format(min_cell=table.min_cell)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table.by, "count"])
    for cell in table.cells:
        writer.writerow([*(_text(value) for value in cell.key), mark if cell.count is None else cell.count])
    padding = [""] * (len(table.by) - 1)
    writer.writerow(["total", *padding, mark if table.total is None else table.total])
    return out.getvalue()
