"""Who is this, and may they? One place for every page and API route to ask."""

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.responses import Response

from api.accounts import sessions
from api.accounts.models import Role, User
from api.accounts.sessions import Visitor
from api.db import SessionDep, request_session
from api.errors import Forbidden, LoginRequired, TwoFactorRequired
from api.i18n import gettext as _


@dataclass(frozen=True)
class HeaderUser:
    """What every page's header shows of the signed-in user."""

    name: str
    role: str
    # Whether her menu offers "Vandaag" (see sessions.Visitor.learns).
    learns: bool = True
    # Who she is, as an opaque tag for the service worker's kept pages (viewer_tag).
    viewer: str = ""


def viewer_tag(secret_key: str, user_id: int | None) -> str:
    """A stable name for the signed-in person that says nothing about her: the service worker
    (web/static/js/sw.js) drops the pages it kept on the device when this changes."""
    message = f"kern-viewer:{user_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:20]


# Pages a user without a required second factor may still reach, to set it up or leave.
TWO_FACTOR_SETUP_PATHS = ("/account/two-factor", "/logout")


# The dependencies here are `async def`: FastAPI runs a plain function on a worker thread, and
# that hand-off costs more than these checks. Only a session cookie's lookup goes to a thread.


async def load_visitor(request: Request, session: SessionDep) -> Visitor:
    """The visitor of this request (a dependency); a cookie is looked up on a worker thread."""
    cached = getattr(request.state, "visitor", None)
    if isinstance(cached, Visitor):
        return cached
    if not sessions.may_resolve(_session_token(request)):
        anonymous = request.state.visitor = Visitor()
        return anonymous
    return await run_in_threadpool(visitor_of, request, session)


def visitor_of(request: Request, session: Session) -> Visitor:
    """Resolve the session cookie once per request and remember the result (blocking)."""
    cached = getattr(request.state, "visitor", None)
    if isinstance(cached, Visitor):
        return cached
    settings = request.app.state.settings
    visitor = sessions.resolve(session, settings, token=_session_token(request))
    remember(request, visitor)
    return visitor


def remember(request: Request, visitor: Visitor) -> None:
    """Keep the request's visitor, and what the page header shows of her."""
    request.state.visitor = visitor
    if visitor.signed_in is not None:
        settings = request.app.state.settings
        # Plain values for the page header: an error page is rendered after the request's
        # transaction rolled back, when the ORM objects can no longer be read.
        request.state.header_user = HeaderUser(
            name=visitor.signed_in.name,
            role=visitor.signed_in.role,
            learns=visitor.learns,
            viewer=viewer_tag(settings.secret_key.get_secret_value(), visitor.signed_in.id),
        )


def session_token(request: Request) -> str | None:
    """The session cookie's value, if she sent one worth looking up."""
    token = _session_token(request)
    return token if sessions.may_resolve(token) else None


def _session_token(request: Request) -> str | None:
    return request.cookies.get(sessions.cookie_name(request.app.state.settings))


VisitorDep = Annotated[Visitor, Depends(load_visitor)]


async def current_user(visitor: VisitorDep) -> User | None:
    """The signed-in user, or None for anonymous visitors."""
    return visitor.signed_in


def _next_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def require_user(request: Request, visitor: VisitorDep) -> User:
    """A signed-in user who has met her role's two-factor rule."""
    return required(request, visitor)


def required(request: Request, visitor: Visitor) -> User:
    """The visitor as `RequireUser` admits her, for a route that read her session itself;
    LoginRequired or TwoFactorRequired otherwise."""
    user = visitor.signed_in
    if user is None:
        raise LoginRequired(_next_path(request) if request.method == "GET" else "/")
    if user.needs_totp and not user.has_totp and request.url.path not in TWO_FACTOR_SETUP_PATHS:
        raise TwoFactorRequired
    return user


class LoginFirst(APIRoute):
    """A route that reads the visitor's session itself, with its own data (not `RequireUser`),
    and takes a body: FastAPI refuses a wrong body before the route runs, where `RequireUser`
    would have refused a visitor who is not signed in first. So is it here: a refused body
    costs the session lookup, and is answered 422 only to someone signed in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def login_first(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                await run_in_threadpool(_require_signed_in, request)
                raise

        return login_first


def _require_signed_in(request: Request) -> None:
    with request_session(request) as session:
        required(request, visitor_of(request, session))


def require_role(*roles: Role) -> object:
    """A dependency that admits signed-in users with one of `roles`."""

    async def check(user: Annotated[User, Depends(require_user)]) -> User:
        if user.role not in roles:
            raise Forbidden(_("You do not have access to this page."))
        return user

    return Depends(check)


CurrentUser = Annotated[User | None, Depends(current_user)]
RequireUser = Annotated[User, Depends(require_user)]
RequireInstructor = Annotated[User, require_role(Role.instructor, Role.admin)]
RequireAdmin = Annotated[User, require_role(Role.admin)]
