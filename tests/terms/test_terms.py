"""The terms of sale: each changed save is a new version, shown sanitised; earlier ones stay."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.errors import FormError
from api.terms import service
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
