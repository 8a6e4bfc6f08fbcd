"""An article's cover, uploaded in the studio, is everyone's once the article is public and
only its author's before that."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.clock import current_time
from tests.articles.helpers import NOW, author, write
from tests.factories import csrf_token, enable_totp, log_in, new_browser
from tests.studio.test_uploads import image_bytes


def test_a_drafts_cover_is_its_authors_until_it_is_published(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    app.dependency_overrides[current_time] = lambda: NOW
    writer = author(session)
    article = write(session, writer, title="Met omslag", status="draft")
    log_in(client, writer, secret=enable_totp(session, writer))

    uploaded = client.post(
        "/studio/articles/met-omslag/cover",
        data={"csrf_token": csrf_token(client)},
        files={"image": ("omslag.png", image_bytes(), "image/png")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    session.refresh(article)
    cover = f"/media/{article.cover_image}"
    reader = new_browser(client)

    assert client.get(cover).status_code == 200
    assert reader.get(cover).status_code == 404
    article.status, article.published_at = "published", NOW
    session.add(article)
    session.flush()
    shown = reader.get(cover)
    assert shown.status_code == 200
    assert shown.headers["cache-control"].startswith("public")
