"""Write a course from the database as a package folder: course.yaml and lessons/*.md."""

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.catalog import profile as instructor_profile
from api.catalog import service as catalog
from api.catalog.models import Course, InstructorProfile, Lesson, Step, VideoProvider
from api.catalog.packages.load import COURSE_FILE, LESSONS_DIR, MEDIA_DIR, QUESTIONNAIRES_DIR
from api.catalog.packages.schema import (
    DEFAULT_INACTIVE_DAYS,
    HEAD_FIELDS,
    CourseManifest,
    CoursePackage,
    LessonMeta,
    PackageLesson,
    QuestionnaireManifest,
    is_slug,
    questionnaire_file,
)
from api.errors import AppError, NotFound
from api.i18n import gettext as _
from api.media.models import MediaFile
from api.media.storage import MediaStorage
from api.questionnaires.models import CheckIn, Questionnaire


class _Dumper(yaml.SafeDumper):
    """Block style with lists indented under their key, as in docs/course-packages.md."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Markdown with several lines reads best as a literal block (`|`).
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: dict[str, Any]) -> str:
    """YAML the way a person writes it: block style, unicode kept, keys in the given order."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def export_course(
    session: Session, *, slug: str, target: Path, storage: MediaStorage | None = None
) -> Path:
    """Write the course as `<target>/<slug>/`; returns that folder.

    With `storage`, the stored files the course owns and names (its cover, its lessons'
    uploaded videos, its steps' pictures) go into the package's media/ folder, so the package
    is complete anywhere.
    """
    files = package_files(session, slug=slug)
    folder = target / slug
    _prepare(folder)
    for name, text in files.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    if storage is not None:
        _copy_media(session, slug, storage, folder / MEDIA_DIR)
    return folder


def _copy_media(session: Session, slug: str, storage: MediaStorage, target: Path) -> None:
    """Copy the files the course owns and names, and its instructor's photo (hers, whichever
    courses own it); a file it names but does not own stays out."""
    owned = set(
        session.exec(
            select(MediaFile.name)
            .join(Course, col(Course.id) == MediaFile.course_id)
            .where(Course.slug == slug)
        ).all()
    )
    course = session.exec(select(Course).where(Course.slug == slug)).one()
    profile = instructor_profile.of(session, user_id=course.instructor_id)
    if profile is not None and profile.photo:
        owned.add(profile.photo)
    for name in sorted(owned & _named(session, slug)):
        if storage.exists(name):
            target.mkdir(exist_ok=True)
            storage.fetch_to(name, target / name)


def _named(session: Session, slug: str) -> set[str]:
    """The cover, the uploaded videos and the steps' pictures the course names."""
    course = session.exec(select(Course).where(Course.slug == slug)).one()
    videos = session.exec(
        select(Lesson.video_ref).where(
            Lesson.course_id == course.id, Lesson.video_provider == VideoProvider.file
        )
    ).all()
    pictures = session.exec(
        select(Step.media_file)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == course.id)
    ).all()
    profile = instructor_profile.of(session, user_id=course.instructor_id)
    photo = profile.photo if profile else None
    return {name for name in [course.cover_image, photo, *videos, *pictures] if name}


def package_files(session: Session, *, slug: str) -> dict[str, str]:
    """The course's package files by path inside the package folder; NotFound for no course."""
    if not is_slug(slug):
        raise NotFound(_("%(slug)s is not a course slug.", slug=repr(slug)))
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None:
        raise NotFound(_("There is no course %(slug)s.", slug=slug))
    try:
        package = _package(session, course)
    except ValidationError as exc:
        # The studio and the package share their rules; a mismatch is a bug worth naming.
        raise AppError(
            _("The course %(slug)s cannot be written as a package: %(error)s", slug=slug, error=exc)
        ) from exc
    return render_package(package)


def render_package(package: CoursePackage) -> dict[str, str]:
    """The package's files by path inside the package folder."""
    course = package.course.model_dump(mode="json", exclude_none=True)
    if not course["check_ins"]:
        del course["check_ins"]
    # Left out at its default, as a package written by hand leaves it out.
    if course["inactive_after_days"] == DEFAULT_INACTIVE_DAYS:
        del course["inactive_after_days"]
    for empty in ("cover_alt", "testimonials"):
        if not course[empty]:
            del course[empty]
    if "instructor" in course:
        course["instructor"] = {key: v for key, v in course["instructor"].items() if v}
    files = {COURSE_FILE: to_yaml(course)}
    for lesson in package.lessons.values():
        files[f"{LESSONS_DIR}/{lesson.file_name}"] = render_lesson(lesson)
    for slug, questionnaire in package.questionnaires.items():
        files[questionnaire_file(slug)] = render_questionnaire(questionnaire)
    return files


def render_questionnaire(questionnaire: QuestionnaireManifest) -> str:
    """A questionnaire file: its name and use first, then its definition in the order of the
    format; fields at their empty default are left out."""
    data = questionnaire.model_dump(mode="json", exclude_none=True)
    ordered = {name: data.pop(name) for name in HEAD_FIELDS} | data
    for name in ("intro", "subscores"):
        if ordered[name] in ("", []):
            del ordered[name]
    for band in ordered["bands"]:
        if band["text"] == "":
            del band["text"]
    return to_yaml(ordered)


def render_lesson(lesson: PackageLesson) -> str:
    """A lesson file: the front matter between `---` lines, then the Markdown body."""
    meta = lesson.meta.model_dump(mode="json", exclude_none=True)
    if meta.get("video", {}).get("title") == "":
        del meta["video"]["title"]
    for step in meta["steps"]:
        # Empty optional fields of a step are noise in a file a person edits.
        for key in ("title", "body", "cues"):
            if step.get(key) in ("", []):
                del step[key]
    if not meta["steps"]:
        del meta["steps"]
    body = f"{lesson.body}\n" if lesson.body else ""
    return f"---\n{to_yaml(meta)}---\n{body}"


def _package(session: Session, course: Course) -> CoursePackage:
    """The course as a package; lesson files are numbered across the course: 01-<slug>.md."""
    modules = catalog.modules_of(session, course)
    lesson_count = sum(len(outline.lessons) for outline in modules)
    steps: dict[int | None, list[Step]] = {}
    query = (
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == course.id)
        .order_by(col(Step.position))
    )
    for step in session.exec(query):
        steps.setdefault(step.lesson_id, []).append(step)
    width = max(2, len(str(lesson_count)))
    questionnaires, check_ins = _questionnaires(session, course)
    files: dict[str, PackageLesson] = {}
    manifest_modules = []
    for outline in modules:
        module = outline.module
        names = []
        for lesson in outline.lessons:
            name = f"{len(files) + 1:0{width}d}-{lesson.slug}.md"
            files[name] = _lesson(lesson, steps.get(lesson.id, []), name)
            names.append(name)
        manifest_modules.append(
            {
                "title": module.title,
                "summary": module.summary,
                "unlock_after_days": module.unlock_after_days,
                "lessons": names,
            }
        )
    return CoursePackage(
        course=_manifest(
            course,
            manifest_modules,
            check_ins,
            instructor_profile.of(session, user_id=course.instructor_id),
        ),
        lessons=files,
        questionnaires=questionnaires,
    )


def _questionnaires(
    session: Session, course: Course
) -> tuple[dict[str, QuestionnaireManifest], list[dict[str, Any]]]:
    """The course's questionnaires by slug, and its check-ins as course.yaml lists them."""
    rows = session.exec(
        select(Questionnaire)
        .where(Questionnaire.course_id == course.id)
        .order_by(col(Questionnaire.slug))
    ).all()
    slugs = {row.id: row.slug for row in rows}
    questionnaires = {
        row.slug: QuestionnaireManifest.model_validate(
            {
                "slug": row.slug,
                "title": row.title,
                "language": row.language,
                "status": row.status,
                "self_test": row.self_test,
                **row.definition,
            }
        )
        for row in rows
    }
    check_ins = session.exec(
        select(CheckIn)
        .where(CheckIn.course_id == course.id)
        .order_by(col(CheckIn.position), col(CheckIn.id))
    ).all()
    listed = [
        {
            "questionnaire": slugs[row.questionnaire_id],
            "at": row.moment,
            "module": row.module_position + 1 if row.module_position is not None else None,
            "days": row.every_days,
        }
        for row in check_ins
    ]
    return questionnaires, listed


def _manifest(
    course: Course,
    modules: list[dict[str, Any]],
    check_ins: list[dict[str, Any]],
    profile: InstructorProfile | None = None,
) -> CourseManifest:
    instructor = None
    if profile is not None:
        instructor = {
            "photo": profile.photo,
            "photo_alt": profile.photo_alt,
            "bio": profile.bio,
            "credentials": profile.credentials,
        }
    return CourseManifest.model_validate(
        {
            "slug": course.slug,
            "title": course.title,
            "subtitle": course.subtitle,
            "language": course.language,
            "price_cents": course.price_cents,
            "status": course.status,
            "schedule": "cohorts" if course.in_cohorts else course.schedule,
            "cover_image": course.cover_image,
            "description": course.description,
            "before_start": course.cohort_preparation or None,
            "outcomes": course.outcomes,
            "faq": course.faq,
            "inactive_after_days": course.inactive_after_days,
            "payment_plan": (
                {
                    "instalments": course.plan_instalments,
                    "instalment_cents": course.plan_instalment_cents,
                }
                if course.plan_instalments and not course.is_free
                else None
            ),
            "cover_alt": course.cover_alt or "",
            "testimonials": course.testimonials or [],
            "instructor": instructor,
            "modules": modules,
            "check_ins": check_ins,
        }
    )


def _lesson(lesson: Lesson, steps: list[Step], file_name: str) -> PackageLesson:
    video = None
    if lesson.video_provider and lesson.video_ref:
        video = {
            "provider": lesson.video_provider,
            "id": lesson.video_ref,
            "title": lesson.video_title,
        }
    meta = LessonMeta.model_validate(
        {
            "slug": lesson.slug,
            "title": lesson.title,
            "estimated_minutes": lesson.estimated_minutes,
            "free_preview": lesson.free_preview,
            "video": video,
            "journal_prompt": lesson.journal_prompt or None,
            "steps": [_step(step) for step in steps],
        }
    )
    return PackageLesson(file_name=file_name, meta=meta, body=lesson.body)


_FIELDS = {
    "text": ("title", "body"),
    "exercise": (
        "title",
        "body",
        "hold_seconds",
        "relax_seconds",
        "reps",
        "sets",
        "rest_seconds",
        "side",
        "cues",
    ),
    "breathing": ("title", "body", "inhale_seconds", "hold_seconds", "exhale_seconds", "cycles"),
}


def _step(step: Step) -> dict[str, Any]:
    # A missing value (None) leaves the format's default, e.g. rest_seconds: 0.
    values = {name: getattr(step, name) for name in _FIELDS[step.kind]}
    if step.kind == "exercise" and step.media_file:
        values["picture"] = {"file": step.media_file, "alt": step.media_alt or ""}
    return {"kind": step.kind} | {key: value for key, value in values.items() if value is not None}


def _prepare(folder: Path) -> None:
    """Make `folder` ready for a package, replacing the files of an earlier export there."""
    if folder.exists() and not folder.is_dir():
        message = _("%(folder)s exists and is not a folder; choose another place.", folder=folder)
        raise AppError(message)
    if folder.exists() and any(folder.iterdir()) and not (folder / COURSE_FILE).is_file():
        message = _(
            "%(folder)s exists and is not a course package; choose another folder.", folder=folder
        )
        raise AppError(message)
    lessons = folder / LESSONS_DIR
    if lessons.is_symlink():
        message = _("%(folder)s is a symbolic link; export into a plain folder.", folder=lessons)
        raise AppError(message)
    lessons.mkdir(parents=True, exist_ok=True)
    questionnaires = folder / QUESTIONNAIRES_DIR
    if questionnaires.is_symlink():
        message = _(
            "%(folder)s is a symbolic link; export into a plain folder.", folder=questionnaires
        )
        raise AppError(message)
    # A questionnaire deleted since the last export would come back with the next import.
    if questionnaires.is_dir():
        for old in questionnaires.glob("*.yaml"):
            old.unlink()
    # Lesson files are renumbered on every export; old ones would be listed nowhere. Media
    # files are copied afresh: the course may no longer name an earlier one.
    for old in lessons.glob("*.md"):
        old.unlink()
    media = folder / MEDIA_DIR
    if media.is_symlink():
        message = _("%(folder)s is a symbolic link; export into a plain folder.", folder=media)
        raise AppError(message)
    if media.is_dir():
        for old in media.iterdir():
            if old.is_file():
                old.unlink()
