"""The terms of sale: each changed save is a new version, shown sanitised; earlier ones stay."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.errors import FormError
from api.terms import service
from api.terms.models import TermsVersion
from api.terms.service import TermsForm


def test_a_changed_text_is_a_new_version_and_markdown_is_sanitised(
    session: Session, client: TestClient
) -> None:
    now = datetime.now(UTC)
    with pytest.raises(FormError):
        service.save(session, form=TermsForm(body_nl="  "), user=None, now=now)
    first = service.save(session, form=TermsForm(body_nl="## Eén\n\nTekst"), user=None, now=now)
    again = service.save(session, form=TermsForm(body_nl="## Eén\n\nTekst"), user=None, now=now)
    second = service.save(
        session, form=TermsForm(body_nl="Nieuw <script>alert(1)</script>"), user=None, now=now
    )

    assert first.id == again.id
    assert second.id == (first.id or 0) + 1
    page = client.get("/terms")
    assert "Nieuw" in page.text
    assert "<script>alert" not in page.text
    assert "Eén" in client.get(f"/terms/{first.id}").text
    assert client.get("/terms/999").status_code == 404


@pytest.mark.parametrize(
    ("body_en", "language", "shown"),
    [("English", "en", "English"), ("English", "nb", "English"), ("", "nb", "Nederlands"),
     ("English", "nl", "Nederlands")],
)  # fmt: skip
def test_each_reader_gets_the_text_she_reads_best(body_en: str, language: str, shown: str) -> None:
    # There is no Norwegian text: a Norwegian reader gets the English one when there is one.
    terms = TermsVersion(body_nl="Nederlands", body_en=body_en)
    assert service.body_for(terms, language) == shown
