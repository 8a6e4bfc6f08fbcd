"""What readers see of the articles: only published ones whose time has come, newest first,
with related ones by shared tags; the Markdown is sanitised; the files round-trip."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from api.articles import files, service
from api.catalog.markdown import render_markdown
from api.errors import FormError, NotFound
from api.media.storage import LocalStorage
from tests.articles.helpers import NOW, author, write
from tests.factories import enable_totp
from tests.studio.test_uploads import image_bytes

COVER = "0123456789abcdef0123456789abcdef.png"


def test_a_scheduled_article_appears_by_itself_when_its_time_has_come(session: Session) -> None:
    writer = author(session)
    later = NOW + timedelta(days=2)
    write(session, writer, title="Later", status="scheduled", publish_at="2026-11-22T10:00")
    write(session, writer, title="Nu")

    assert [a.title for a in service.public_articles(session, now=NOW)] == ["Nu"]
    assert [a.title for a in service.public_articles(session, now=later)] == ["Later", "Nu"]
    with pytest.raises(NotFound):
        service.readable(session, slug="later", viewer=None, now=NOW)
    assert service.readable(session, slug="later", viewer=None, now=later).title == "Later"


def test_a_draft_is_for_its_author_only(session: Session) -> None:
    writer, other = author(session), author(session, "Ander")
    enable_totp(session, writer)  # staff preview drafts only with their second factor on
    write(session, writer, title="Concept", status="draft")

    assert service.public_articles(session, now=NOW + timedelta(days=400)) == []
    with pytest.raises(NotFound):
        service.readable(session, slug="concept", viewer=other, now=NOW)
    assert service.readable(session, slug="concept", viewer=writer, now=NOW).title == "Concept"


def test_scheduling_needs_a_time_and_bad_input_writes_nothing(session: Session) -> None:
    writer = author(session)
    with pytest.raises(FormError) as refused:
        write(session, writer, title="", status="scheduled", cta_kind="course", cta_ref="")
    assert set(refused.value.fields) == {"title", "publish_at", "cta_ref"}
    assert service.of_author(session, viewer=writer) == []


def test_list_pages_tags_related_and_reading_time(session: Session) -> None:
    writer = author(session)
    for number in range(12):
        write(
            session,
            writer,
            title=f"Stuk {number}",
            tags="adem" if number % 2 else "rug",
            publish_at=f"2026-11-{number + 1:02d}T08:00",
        )
    first = service.listing(session, now=NOW)
    assert (len(first.articles), first.pages, first.articles[0].title) == (10, 2, "Stuk 11")
    assert first.tags == ["adem", "rug"]
    assert len(service.listing(session, now=NOW, page=2).articles) == 2
    breath = service.listing(session, now=NOW, tag="adem")
    assert {a.title for a in breath.articles} == {f"Stuk {n}" for n in range(1, 12, 2)}
    article = breath.articles[0]
    related = service.related(session, article=article, now=NOW)
    assert len(related) == 3
    assert all("adem" in other.tags for other in related)
    assert article not in related
    assert service.reading_minutes("woord " * 201) == 2


def test_the_body_is_sanitised_as_lessons_are(session: Session) -> None:
    writer = author(session)
    article = write(
        session, writer, body="Hallo <script>alert(1)</script> [x](javascript:alert(1))"
    )
    html = str(render_markdown(article.body))
    assert "<script" not in html
    assert "href" not in html


def test_import_then_export_gives_the_same_file(session: Session, tmp_path: Path) -> None:
    writer = author(session)
    text = files.render(
        {
            "title": "Adem in op 4, uit op 6",
            "slug": "adem-4-6",
            "summary": "Rustig uitademen.",
            "language": "nl",
            "author": writer.email,
            "status": "published",
            "published_at": "2026-11-18T08:30:00+00:00",
            "tags": ["ademhaling", "ontspanning"],
            "comments_open": True,
            "cta": {"kind": "intake", "ref": ""},
            "cover": {"file": COVER, "alt": "Een vrouw die rustig zit"},
            "video": {"provider": "youtube", "ref": "dQw4w9WgXcQ", "title": "Adem mee"},
        },
        "## Zo doe je het\n\nAdem in door je neus, tel tot vier.",
    )
    source = tmp_path / "adem-4-6.md"
    source.write_text(text, encoding="utf-8")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / COVER).write_bytes(image_bytes())

    storage = LocalStorage(tmp_path / "stored")
    files.import_file(session, source, storage=storage)
    written = files.export(session, slug="adem-4-6", target=tmp_path / "out", storage=storage)

    assert written.read_text(encoding="utf-8") == text
    assert (tmp_path / "out" / "media" / COVER).is_file()
    # Importing the same file again updates the article instead of adding one.
    files.import_file(session, source, storage=storage)
    assert len(service.of_author(session, viewer=writer)) == 1


def test_a_broken_file_is_refused_with_its_name(session: Session, tmp_path: Path) -> None:
    author(session)
    source = tmp_path / "kapot.md"
    source.write_text("---\ntitle: [\n---\nTekst\n", encoding="utf-8")
    with pytest.raises(files.ArticleFileError, match=r"kapot\.md"):
        files.import_file(session, source, storage=LocalStorage(tmp_path))


@pytest.mark.parametrize("folder", [Path(__file__).parents[2] / "articles"])
def test_the_sample_articles_import(session: Session, folder: Path, tmp_path: Path) -> None:
    writer = author(session)
    paths = files.article_files(folder)
    assert len(paths) >= 4
    for path in paths:
        article = files.import_file(session, path, storage=LocalStorage(tmp_path), author=writer)
        assert files.to_text(session, article).replace(writer.email, "instructeur@kern.test") == (
            path.read_text(encoding="utf-8")
        )
