"""What every page module needs from a request: settings, the client's address, small forms."""

from fastapi import Request

from api.config import Settings
from api.media.storage import MediaStorage, storage_for
from web.forms import Form


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
