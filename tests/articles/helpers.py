"""Articles for the tests: written through the studio's service, as an instructor would."""

from datetime import UTC, datetime

from sqlmodel import Session

from api.accounts.models import Role, User
from api.articles import service
from api.articles.models import Article
from tests.factories import make_user

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def author(session: Session, name: str = "Inge Docent") -> User:
    return make_user(session, name=name, role=Role.instructor)


def write(session: Session, writer: User, **fields: object) -> Article:
    """An article; published now unless told otherwise."""
    values: dict[str, object] = {
        "title": "Adem rustig",
        "summary": "Even stilstaan bij je adem.",
        "body": "Adem in door je neus.",
        "status": "published",
        **fields,
    }
    data = service.ArticleInput.model_validate(values)
    return service.create(session, data=data, author=writer, now=NOW)
