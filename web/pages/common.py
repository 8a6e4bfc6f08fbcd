"""What every page module needs from a request: settings, the client's address, small forms."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.config import Settings
from api.media.storage import MediaStorage, storage_for
from web.forms import Form

Page = TypeVar("Page", bound=Callable[[Request], Awaitable[Response]])

# The busiest pages' router, tried before every other (api/main.py ROUTERS): FastAPI matches a
# request against the routers in turn. Filled by `page` as the page modules are imported.
busiest = APIRouter()


def page(path: str) -> Callable[[Page], Page]:
    """`@page("/courses/{slug}")`: a GET page served as a plain Starlette route, for the busiest
    pages, which take nothing from FastAPI but the request: they read their path's parameters
    from `request.path_params` and the moment from `clock.now_of`, and open their session
    themselves. FastAPI's handling of a route (solving its dependencies, checking its
    parameters) and the routers tried before it were a tenth of a lesson page's work
    (docs/performance.md#pages-as-plain-routes). The app-wide CSRF dependency has nothing to
    check on a GET; HEAD is answered as GET."""

    def register(endpoint: Page) -> Page:
        busiest.add_route(path, endpoint, methods=["GET"], include_in_schema=False)
        return endpoint

    return register


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def storage_of(request: Request) -> MediaStorage:
    """Where the application's media is stored (MEDIA_STORAGE)."""
    return storage_for(settings_of(request))


def client_ip(request: Request) -> str:
    """The address the request came from (uvicorn applies X-Forwarded-For from the proxy)."""
    return request.client.host if request.client else "unknown"


class ConfirmForm(Form):
    """A delete button's form: its hidden `confirm` input says "yes"."""

    confirm: str = ""

    @property
    def confirmed(self) -> bool:
        return self.confirm == "yes"


class MoveForm(Form):
    """The buttons that move an item one place "up" or "down"."""

    direction: str = ""
