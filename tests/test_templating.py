"""What every page's templates are given about the request (web/templating.py)."""

import pytest
from starlette.requests import Request

from web.templating import path_of


def _request(path: str, *, host: bool = True) -> Request:
    headers = [(b"host", b"kern.test")] if host else []
    return Request(
        {"type": "http", "method": "GET", "path": path, "query_string": b"a=1", "headers": headers}
    )


@pytest.mark.parametrize(
    "path",
    [
        "/courses/sterke-basis/lessons/adem",
        "/",
        "/cursussen/bekken%C3%A9",
        "/ä/ønske",
        "/a?b",  # a decoded %3F: Starlette escapes it again
        "/a#b",
        "/a\\b",
        "//elders.example/pad",
    ],
)
def test_the_pages_path_is_the_one_starlette_gives(path: str) -> None:
    for host in (True, False):
        assert path_of(_request(path, host=host)) == _request(path, host=host).url.path
