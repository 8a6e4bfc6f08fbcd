"""Parts of pages rendered once and kept per process, by everything they show.

A page's most expensive parts are often the same for every visitor: a lesson's text and steps,
the catalog's list of courses, a course's list of lessons as a visitor who has not enrolled sees
it. Rendering them once per version of what they show and adding only the visitor's own parts
on each request makes those pages much cheaper (docs/performance.md#rendered-fragments).

The rule that keeps this safe: a fragment's key holds every value its template reads (or a
version that changes whenever one of them does, such as `course.content_version`), together with
the interface language, and the values come from the same request's statement. An edit thus
makes a new key on the very next request in every worker, and no fragment can hold anything
that belongs to one visitor. The old entries fall out at the bound.

Written here rather than taken from a library: the few caching libraries for Python
(cachetools among them) would add a dependency for the fifteen lines below, and none lets
the render happen outside the lock, which keeps two threads from waiting on each other.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Fragments:
    """Rendered parts by key, the `limit` most recently used."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The part kept under `key`, else `make()`'s, kept from now on. Two threads that miss at
        once both render it; the result is the same."""
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found  # type: ignore[no-any-return]
        made = make()
        with self._lock:
            self._kept[key] = made
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)
        return made

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
