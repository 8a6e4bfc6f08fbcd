"""The busiest routes' hand-off of their blocking work to a worker thread.

Starlette's `run_in_threadpool` goes through anyio (a capacity limiter, a cancel scope, anyio's
own worker threads and their queue); asyncio's `run_in_executor` on the event loop's default
executor does the same hand-off with less around it, 1.2 % of a lesson request's instructions
(docs/performance.md#the-hand-off-to-a-thread). The threads are the worker's own, set by the
application's lifespan (`use_threads`). Each loop gets a fresh executor, and `asyncio.run` ends
it with the loop, so no thread outlives the loop it served (the rehearsal before the fork runs
on a loop of its own).

Only the plain routes that do all their work in one hand-off use it (the busiest writes, and
the bookkeeping writes of the busiest pages, which are built on the event loop: api/db.py
`read_on_loop`). Every other route goes through FastAPI, whose sync dependencies and routes run on
anyio's threads whatever Kern's own code does, so those keep `run_in_threadpool`.
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Result = TypeVar("Result")


def use_threads(count: int) -> None:
    """Give the running event loop `count` threads for `in_thread` (made as they are needed)."""
    executor = ThreadPoolExecutor(count, thread_name_prefix="kern-request")
    asyncio.get_running_loop().set_default_executor(executor)


async def in_thread(function: Callable[..., Result], *args: object) -> Result:
    """`function(*args)` in a worker thread, with the caller's context variables (the
    request's language among them), as `run_in_threadpool` would."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, function, *args)
    future = loop.run_in_executor(None, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        # As with anyio's hand-off, a cancelled request ends only when its thread has: the
        # thread may hold a pooled connection, and RequestSlots counts on its slot meaning that.
        await asyncio.wait([future])
        raise
