"""Row ids: the one bounded type every route reads them with, and the id of a stored row.

Ids are 32-bit INTEGER columns on both databases. A number outside 1 … MAX_ID can name no row,
and handing it to a driver fails there (SQLite cannot bind past 64 bits, PostgreSQL may refuse
the comparison) instead of finding nothing, so routes refuse it before any service sees it.
"""

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Protocol

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1

# An id in a request body or a pydantic model.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# An id in the path (`/lessons/{lesson_id}`), and one in the query (`?learner_id=`), where it
# narrows a list or a reading and is None when left out. A route describes its query id with a
# Query(description=...) of its own around QueryId: FastAPI takes the outermost one.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[Id | None, Query()]

# The validation errors a number outside Id's bounds gives.
OUT_OF_RANGE = frozenset({"greater_than_equal", "less_than_equal"})


def path_id_out_of_range(errors: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a path parameter of these validation errors is a number no row can have."""
    return any(error["loc"][0] == "path" and error["type"] in OUT_OF_RANGE for error in errors)


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Stored) -> int:
    """The id of a stored row; ValueError for one that was never flushed (its id is None)."""
    # A missing id is a bug to be seen: read as 0 it would quietly stand for a row that does
    # not exist, such as a user 0 owning what was meant for someone.
    # Read once: on an ORM object each read goes through the attribute's descriptor (Vandaag
    # asks for some sixty ids per request).
    found = row.id
    if found is None:
        raise ValueError(f"this {type(row).__name__} has no id: it was never stored")
    return found
