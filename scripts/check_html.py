"""Check the markup of the pages a learner and her instructor use most with the Nu HTML Checker.

Run by hand (it needs Java and the checker's jar, e.g. from npm's `vnu-jar` package):
    npm install --prefix /tmp/vnu vnu-jar
    .venv/bin/python scripts/check_html.py /tmp/vnu/node_modules/vnu-jar/build/dist/vnu.jar

It migrates a throw-away SQLite database, loads the demo data as `make run` does, renders
Vandaag, today's routine, every course page, a lesson, the practice log, the journal, the
article list, an article, the Norwegian course page in Norwegian and the studio's learners page
as the demo learner and instructor see them, and prints what the checker reports. It exits
non-zero when the checker finds an error.
"""

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api import i18n
from api.accounts import sessions, twofactor
from api.accounts.models import Role, User
from api.articles.models import Article
from api.catalog.models import Course, Lesson, Step
from api.config import Settings
from api.main import create_app
from api.seed import DEMO_INSTRUCTOR_EMAIL, DEMO_LEARNER_EMAIL

ROOT = Path(__file__).resolve().parents[1]
NORWEGIAN_COURSE = "pust-og-myke-hofter"  # the sample course in Norwegian


def signed_in(client: TestClient, settings: Settings, session: Session, email: str) -> None:
    user = session.exec(select(User).where(User.email == email)).one()
    if user.role != Role.learner and user.totp_enabled_at is None:
        # Staff work with two-step verification on; without it every page asks to set it up.
        secret = twofactor.pending_secret(session, user=user)
        twofactor.enable(session, user=user, code=pyotp.TOTP(secret).now())
    token = sessions.start(session, settings, user=user, user_agent="check", ip_address="check")
    session.commit()
    client.cookies.set(sessions.cookie_name(settings), token)


def main(vnu_jar: str) -> int:
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'kern.db'}"
        env = {"DATABASE_URL": url, "MEDIA_DIR": str(Path(folder) / "media"), "LOG_LEVEL": "ERROR"}
        kern = [sys.executable, "-m", "api"]
        for command in (["db", "upgrade"], ["seed"]):
            subprocess.run(  # noqa: S603 (our own command)
                [*kern, *command],
                env={**os.environ, **env},
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
        settings = Settings(database_url=url, media_dir=Path(folder) / "media", app_env="test")
        app = create_app(settings)
        pages: dict[str, str] = {}
        with (
            TestClient(app) as learner,
            TestClient(app) as instructor,
            TestClient(app) as norwegian,
        ):
            norwegian.cookies.set(i18n.LOCALE_COOKIE, "nb")
            with Session(app.state.engine) as session:
                signed_in(learner, settings, session, DEMO_LEARNER_EMAIL)
                signed_in(instructor, settings, session, DEMO_INSTRUCTOR_EMAIL)
                signed_in(norwegian, settings, session, DEMO_LEARNER_EMAIL)
                # An article with its comments open, so the comment form is checked too.
                article = session.exec(select(Article).order_by(col(Article.id))).first()
                assert article is not None  # noqa: S101
                article.comments_open = True
                session.add(article)
                session.commit()
                article_slug = article.slug
                # A lesson whose exercise shows a picture of the position.
                course, lesson = session.exec(
                    select(Course, Lesson)
                    .join(Lesson, Lesson.course_id == Course.id)  # type: ignore[arg-type]
                    .join(Step, Step.lesson_id == Lesson.id)  # type: ignore[arg-type]
                    .where(Step.media_file.is_not(None))  # type: ignore[union-attr]
                    .order_by(Course.id, Lesson.id)  # type: ignore[arg-type]
                ).first() or (None, None)
                assert course is not None  # noqa: S101
                assert lesson is not None  # noqa: S101
                slugs = session.exec(select(Course.slug).order_by(col(Course.id))).all()
            for name, client, path in (
                ("vandaag", learner, "/today"),
                ("routine", learner, "/today/routine"),
                *((f"course-{slug}", learner, f"/courses/{slug}") for slug in slugs),
                ("lesson", learner, f"/courses/{course.slug}/lessons/{lesson.slug}"),
                ("practice-log", learner, "/practice"),
                ("journal", learner, "/journal"),
                ("articles", learner, "/artikelen"),
                ("article", learner, f"/artikelen/{article_slug}"),
                ("course-nb", norwegian, f"/courses/{NORWEGIAN_COURSE}"),
                ("studio-learners", instructor, f"/studio/courses/{course.slug}/learners"),
            ):
                response = client.get(path, follow_redirects=False)
                if response.status_code != 200:
                    print(f"{name}: {path} answered {response.status_code}")
                    return 1
                pages[f"{name} ({path})"] = response.text
        files = []
        for name, html in pages.items():
            file = Path(folder) / f"{name.split()[0]}.html"
            file.write_text(html)
            files.append(str(file))
        java = shutil.which("java") or "java"
        result = subprocess.run(  # noqa: S603 (the jar named on the command line)
            [
                java,
                "-jar",
                vnu_jar,
                "--errors-only",
                "--format",
                "gnu",
                *files,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        report = (result.stdout + result.stderr).replace(folder + "/", "")
        print(report.strip() or f"0 errors in {len(files)} pages: {', '.join(pages)}")
        return result.returncode


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        raise SystemExit(2)
    raise SystemExit(main(sys.argv[1]))
