"""Cursor pages: ?limit= (≤ 200) and ?after=<the previous page's next>; newest first by id."""
from __future__ import annotations

import sqlalchemy as sa
from werkzeug.exceptions import UnprocessableEntity

from app.extensions import db


def page(query: sa.Select, id_column, *, limit: int, after: str | None, ascending: bool = False):
    """The next `limit` rows of `query` after the cursor, and the cursor of the page after them."""
    if after:
        if not after.isdigit() or len(after) > 18:
            raise UnprocessableEntity("`after` must be the `next` value of a previous page.")
        query = query.where(id_column > int(after) if ascending else id_column < int(after))
    rows = list(db.session.scalars(query.order_by(None).order_by(id_column.asc() if ascending else id_column.desc())
                                   .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].id) if more and rows else None)
