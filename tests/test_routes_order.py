"""The routers are tried busiest first (api.main.ROUTERS). That is only safe while no address
is answered by two routers: then the order decides nothing but speed."""

import re
from collections.abc import Iterator

from fastapi import APIRouter
from starlette.routing import Match, Route

from api.main import ROUTERS

PARAMETER = re.compile(r"\{[^}]+\}")


def _routes(router: APIRouter) -> Iterator[Route]:
    """Its routes, FastAPI's and the plain ones of the busiest pages (web/pages/common.py)."""
    for route in router.routes:
        nested = getattr(route, "original_router", None)
        if isinstance(nested, APIRouter):
            yield from _routes(nested)
        elif isinstance(route, Route):
            yield route


def _scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}


def test_no_address_is_answered_by_two_routers() -> None:
    routers = [list(_routes(router)) for router in ROUTERS]
    assert sum(len(routes) for routes in routers) > 50  # every router is in the list
    clashes = []
    for number, routes in enumerate(routers):
        others = [route for other in routers[number + 1 :] for route in other]
        for route in routes:
            sample = PARAMETER.sub("sample", route.path)
            for method in route.methods or ():
                scope = _scope(sample, method)
                clashes += [
                    f"{method} {route.path} / {other.path}"
                    for other in others
                    if other.matches(scope)[0] == Match.FULL
                ]
    assert clashes == []


def test_a_clash_would_be_found() -> None:
    first, second = APIRouter(), APIRouter()
    first.add_api_route("/courses/{slug}", lambda slug: slug, methods=["GET"])
    second.add_api_route("/courses/{name}", lambda name: name, methods=["GET"])
    route = next(_routes(first))
    other = next(_routes(second))
    assert other.matches(_scope(PARAMETER.sub("sample", route.path), "GET"))[0] == Match.FULL


def test_the_busiest_pages_come_first() -> None:
    paths = [route.path for router in ROUTERS[:5] for route in _routes(router)]
    assert "/courses/{slug}/lessons/{lesson_slug}" in paths
    assert "/today" in paths
    assert "/api/v1/practice" in paths
    # The four plain pages first of all (web/pages/common.py `busiest`).
    assert [route.path for route in _routes(ROUTERS[0])] == [
        "/courses",
        "/courses/{slug}",
        "/courses/{slug}/lessons/{lesson_slug}",
        "/today",
    ]
