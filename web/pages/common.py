"""What every page module needs from a request: settings, the client's address, form fields."""

from typing import Annotated

from fastapi import Form, Request

from api.config import Settings

# Form fields arrive as plain strings, empty when missing: the services check them and answer
# with a message in the form, where FastAPI's own validation would answer with an error page.
FormStr = Annotated[str, Form()]


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def client_ip(request: Request) -> str:
    """The address the request came from (uvicorn applies X-Forwarded-For from the proxy)."""
    return request.client.host if request.client else "unknown"
