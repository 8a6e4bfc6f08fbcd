"""The privacy statement: who the practice is, what Kern keeps and why, and her rights."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.accounts.access import VisitorDep
from api.consent import texts
from api.db import SessionDep
from api.practice_identity import service as identity_service
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

# The statement is legal text, written as a whole in each language (a template per language)
# rather than cut into catalog sentences; a language without its own falls back to Dutch.
STATEMENT_LANGUAGES = ("nl", "en", "nb")


@router.get("/privacy", response_class=HTMLResponse)
def show_privacy(request: Request, session: SessionDep, _visitor: VisitorDep) -> HTMLResponse:
    """The privacy statement, with the practice's details as stored now."""
    locale = locale_of(request)
    language = locale if locale in STATEMENT_LANGUAGES else STATEMENT_LANGUAGES[0]
    context = {
        # Read in this request, not from the footer's copy: the statement names who is
        # responsible, and that must be exact.
        "identity": identity_service.read(session),
        "statement": f"privacy/statement_{language}.html",
        "consent_version": texts.HEALTH_DATA_VERSION,
    }
    return render(request, "privacy/index.html", context)
