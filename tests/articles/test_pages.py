"""The public article pages, their comments and the files for search engines."""

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from api.accounts import personal_data
from api.articles.models import ArticleComment
from api.clock import current_time
from tests.articles.helpers import NOW, author, write
from tests.factories import enable_totp, log_in, make_course, make_user, new_browser, post_form


@pytest.fixture(autouse=True)
def _clock(app: FastAPI) -> None:
    app.dependency_overrides[current_time] = lambda: NOW


def _comment(client: TestClient, slug: str, **fields: str) -> Response:
    form = {"name": "Sanne", "text": "Fijn!", **fields}
    return post_form(client, f"/artikelen/{slug}/comments", form)


def test_the_article_page_tells_search_engines_and_chats_what_it_is(
    client: TestClient, session: Session
) -> None:
    writer = author(session)
    write(session, writer, title="Bekkenbodem en rug", tags="rug, bekkenbodem", cta_kind="intake")
    write(session, writer, title="Rug en stress", tags="rug")

    page = client.get("/artikelen/bekkenbodem-en-rug")

    assert page.status_code == 200
    assert (
        '<link rel="canonical" href="http://testserver/artikelen/bekkenbodem-en-rug">' in page.text
    )
    assert '<meta property="og:type" content="article">' in page.text
    assert '"@type": "Article"' in page.text
    assert f'href="/intake/{writer.id}"' in page.text
    assert 'href="/artikelen/rug-en-stress"' in page.text  # related by the tag "rug"
    assert "1 minuut" in page.text
    listing = client.get("/artikelen?tag=rug")
    assert listing.text.index("Rug en stress") < listing.text.index("Bekkenbodem en rug")


def test_sitemap_feed_and_robots(client: TestClient, session: Session) -> None:
    writer = author(session)
    write(session, writer, title="Adem vier zes")
    write(session, writer, title="Nog niet", status="scheduled", publish_at="2026-12-24T09:00")
    make_course(session, instructor=writer, slug="rustige-rug", status="published")

    sitemap = client.get("/sitemap.xml")
    feed = client.get("/artikelen/feed.xml")
    robots = client.get("/robots.txt")

    assert "/artikelen/adem-vier-zes</loc>" in sitemap.text
    assert "/courses/rustige-rug</loc>" in sitemap.text
    assert "nog-niet" not in sitemap.text
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "<title>Adem vier zes</title>" in feed.text
    assert "nog-niet" not in feed.text
    assert "Sitemap: http://testserver/sitemap.xml" in robots.text
    assert "Disallow: /studio" in robots.text
    assert "Disallow: /api/" in robots.text


def test_a_comment_waits_for_approval_and_its_script_never_runs(
    client: TestClient, session: Session
) -> None:
    writer = author(session)
    write(session, writer, title="Open", comments_open=True)
    text = "<script>alert('x')</script> dank"

    assert _comment(client, "open", text=text).status_code == 303
    assert "dank" not in client.get("/artikelen/open").text

    studio = new_browser(client)
    log_in(studio, writer, secret=enable_totp(session, writer))
    [comment] = session.exec(select(ArticleComment)).all()
    approved = post_form(
        studio, f"/studio/articles/open/comments/{comment.id}", {"action": "approve"}
    )
    assert approved.status_code == 303
    post_form(
        studio, f"/studio/articles/open/comments/{comment.id}/reply", {"reply": "Graag gedaan"}
    )

    page = client.get("/artikelen/open").text
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert(" not in page
    assert "Graag gedaan" in page


def test_dates_in_the_markup_are_valid_html_times(client: TestClient, session: Session) -> None:
    # A moment with microseconds (as the database keeps it) is written to the second, in UTC:
    # HTML allows at most three digits after the second.
    writer = author(session)
    article = write(session, writer, title="Open", comments_open=True)
    _comment(client, "open")
    [comment] = session.exec(select(ArticleComment)).all()
    moment = datetime(2026, 11, 20, 8, 30, 15, 123456, tzinfo=UTC)
    article.published_at = comment.created_at = moment
    comment.status = "approved"
    session.add_all([article, comment])
    session.commit()

    valid = '<time datetime="2026-11-20T08:30:15Z">'
    assert client.get("/artikelen/open").text.count(valid) == 2  # the article and the comment
    assert client.get("/artikelen").text.count(valid) == 1


def test_bad_input_keeps_her_text_and_closed_comments_refuse(
    client: TestClient, session: Session
) -> None:
    writer = author(session)
    write(session, writer, title="Open", comments_open=True)
    write(session, writer, title="Dicht")

    refused = _comment(client, "open", name="", text="Mijn lange verhaal")
    assert refused.status_code == 422
    assert "Mijn lange verhaal" in refused.text
    assert _comment(client, "dicht").status_code == 403
    assert session.exec(select(ArticleComment)).all() == []


def test_the_honeypot_and_the_rate_limit_stop_spam(client: TestClient, session: Session) -> None:
    writer = author(session)
    write(session, writer, title="Open", comments_open=True)

    robot = _comment(client, "open", website="http://spam.example")
    assert robot.status_code == 303
    assert session.exec(select(ArticleComment)).all() == []
    for _number in range(4):
        assert _comment(client, "open").status_code == 303
    too_many = _comment(client, "open", text="Nog eentje")
    assert too_many.status_code == 429
    assert "Nog eentje" in too_many.text
    assert len(session.exec(select(ArticleComment)).all()) == 4


def test_her_comment_is_hers_to_delete_and_goes_with_her_account(
    client: TestClient, session: Session
) -> None:
    writer = author(session)
    write(session, writer, title="Open", comments_open=True)
    alice, bob = make_user(session, name="Alice de Vries"), make_user(session, name="Bob")
    log_in(client, alice)
    # The form offers her first name only: a comment is public.
    assert 'value="Alice"' in client.get("/artikelen/open").text
    for _number in range(2):
        _comment(client, "open")
    first, second = session.exec(select(ArticleComment).order_by(col(ArticleComment.id))).all()
    assert first.user_id == alice.id

    other = new_browser(client)
    log_in(other, bob)
    assert post_form(other, f"/artikelen/comments/{first.id}/delete").status_code == 404
    assert post_form(client, f"/artikelen/comments/{first.id}/delete").status_code == 303
    assert [c.id for c in session.exec(select(ArticleComment)).all()] == [second.id]

    assert personal_data.export(session, user=alice)["article_comments"][0]["text"] == "Fijn!"
    personal_data.erase(session, user=alice)
    assert session.exec(select(ArticleComment)).all() == []


def test_the_studio_writes_schedules_and_previews(client: TestClient, session: Session) -> None:
    writer = author(session)
    log_in(client, writer, secret=enable_totp(session, writer))
    form = {
        "title": "Middenrif",
        "body": "Adem **laag**.",
        "language": "nb",
        "tags": "Pust, mellomgulv",
        "status": "scheduled",
        "publish_at": "",
        "cta_kind": "none",
    }
    refused = post_form(client, "/studio/articles/new", form)
    assert refused.status_code == 422
    assert 'value="Pust, mellomgulv"' in refused.text
    preview = post_form(client, "/studio/articles/new", {**form, "action": "preview"})
    assert "<strong>laag</strong>" in preview.text

    saved = post_form(client, "/studio/articles/new", {**form, "publish_at": "2026-11-21T08:00"})
    assert saved.headers["location"] == "/studio/articles/middenrif?notice=created"
    assert client.get("/artikelen/middenrif").status_code == 200  # her own preview
    reader = new_browser(client)
    assert reader.get("/artikelen/middenrif").status_code == 404
    assert "middenrif" in client.get("/studio/articles").text
