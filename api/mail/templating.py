"""The mails' own Jinja2 environment over api/mail/templates, translated like the pages."""

from pathlib import Path

from api import i18n

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Mails take the pages' gettext and formatting (api.i18n), not the pages' environment: the mail
# domain renders its messages without depending on the web layer.
templates = i18n.jinja_environment(TEMPLATES_DIR)


def configure(*, development: bool) -> None:
    """Reload changed mail templates only while developing, as the pages do."""
    templates.auto_reload = development
