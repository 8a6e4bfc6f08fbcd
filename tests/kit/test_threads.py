"""The busiest routes' hand-off to a worker thread (api/kit/threads.py): the work runs off the
event loop with the request's context variables, on the worker's own threads, and a cancelled
request still waits for its thread, as RequestSlots counts on."""

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse, Response

from api.kit.threads import in_thread, use_threads

LANGUAGE = contextvars.ContextVar[str]("language")
Result = TypeVar("Result")


def run(main: Callable[[], Coroutine[Any, Any, Result]]) -> Result:
    """`asyncio.run(main())` in a thread of its own: a browser test run before this one in the
    same worker leaves Playwright's event loop running in this thread, where asyncio.run is
    refused."""
    with ThreadPoolExecutor(1) as outside:
        return outside.submit(asyncio.run, main()).result()


def test_the_work_runs_in_another_thread_with_the_callers_context() -> None:
    async def main() -> tuple[int, int, str, str]:
        use_threads(2)
        LANGUAGE.set("nb")

        def work(word: str) -> tuple[int, str, str]:
            return threading.get_ident(), threading.current_thread().name, LANGUAGE.get() + word

        ident, name, said = await in_thread(work, "!")
        return threading.get_ident(), ident, name, said

    loop_thread, work_thread, name, said = run(main)
    assert work_thread != loop_thread
    assert name.startswith("kern-request")
    assert said == "nb!"


def test_an_error_in_the_work_reaches_the_caller() -> None:
    def fails() -> None:
        raise LookupError("no such lesson")

    async def main() -> str:
        try:
            await in_thread(fails)
        except LookupError as error:
            return str(error)
        return "nothing raised"

    assert run(main) == "no such lesson"


def test_a_cancelled_request_ends_only_when_its_thread_has() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    async def main() -> bool:
        task = asyncio.create_task(in_thread(slow))
        await asyncio.sleep(0.02)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return finished.is_set()
        return False

    assert run(main), "the cancellation came through before the thread had finished"


def test_under_the_lifespan_the_hand_off_runs_on_the_workers_own_threads(app: FastAPI) -> None:
    # The busiest writes and the pages' bookkeeping go to threads the lifespan gave the loop.
    async def where(request: Request) -> Response:
        return PlainTextResponse(await in_thread(lambda: threading.current_thread().name))

    app.add_route("/where", where)
    with TestClient(app, base_url="http://testserver") as browser:
        assert browser.get("/where").text.startswith("kern-request")
