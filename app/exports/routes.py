"""CSV downloads: streamed, UTF-8 with a BOM (Excel then opens Persian correctly), formula-safe cells."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, abort, stream_with_context

from app.exports import bp
from app.services import exports
from app.web import readers, tenant_or_404

BOM = "\ufeff"


@bp.route("/<kind>.csv")
@readers
def download(kind: str):
    if kind not in exports.EXPORTS:
        abort(404)
    tenant = tenant_or_404()
    return csv_response(f"{kind}-{tenant.slug}.csv", exports.EXPORTS[kind](tenant))


def csv_response(filename: str, rows: Iterable[list]) -> Response:
    """Stream `rows` as CSV, one chunk per row; nothing is held in memory beyond the current batch."""
    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield BOM
        for row in rows:
            writer.writerow(exports.csv_cells(row))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    headers = {"Content-Disposition": f"attachment; filename={filename}"}
    return Response(stream_with_context(chunks()), mimetype="text/csv; charset=utf-8", headers=headers)
