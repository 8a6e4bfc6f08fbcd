"""Read a course package folder into a CoursePackage, reporting every problem with file and line."""

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from api.catalog.models import StepKind
from api.catalog.packages.schema import (
    COURSE_FILE,
    LESSONS_DIR,
    MEDIA_DIR,
    QUESTIONNAIRES_DIR,
    CourseManifest,
    CoursePackage,
    LessonMeta,
    PackageLesson,
    QuestionnaireManifest,
    is_lesson_file,
    is_slug,
)
from api.errors import AppError
from api.i18n import N_, ngettext
from api.i18n import gettext as _
from api.questionnaires.definition import ItemKind

__all__ = [
    "COURSE_FILE",
    "LESSONS_DIR",
    "MEDIA_DIR",
    "QUESTIONNAIRES_DIR",
    "PackageError",
    "Problem",
    "load_package",
]

# Course texts are small; a limit keeps a wrong path (a video, a disk image) from being read whole.
MAX_FILE_BYTES = 1024 * 1024

_Model = TypeVar("_Model", bound=BaseModel)
_STEP_KINDS = {kind.value for kind in StepKind}
_ITEM_KINDS = {kind.value for kind in ItemKind}
_WHERE_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a package: `file:line: field: message`."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        return self.located()

    def located(self, folder: Path | str = "") -> str:
        """The problem with its file as a path under `folder`; file "" is the folder itself."""
        path = str(Path(folder, self.file)) if folder else self.file
        where = f"{path}:{self.line}" if path and self.line else path
        return ": ".join(part for part in (where, self.field, self.message) if part)


class PackageError(AppError):
    """A course package that cannot be imported; `problems` lists everything wrong with it."""

    status_code = 422
    code = "invalid_package"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=_reading_order)
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [str(problem) for problem in self.problems]


def _reading_order(problem: Problem) -> tuple[bool, str, int]:
    return (problem.file != COURSE_FILE, problem.file, problem.line or 0)


@dataclass
class _Document:
    """A parsed YAML text with its node tree, for turning a field path into a line number."""

    file: str
    node: yaml.Node
    data: Any
    offset: int  # lines of the file before the YAML text (the front matter's opening ---)

    def line(self, loc: Sequence[str | int]) -> int:
        """The line of the deepest node along `loc` that exists in the text."""
        node, line = self.node, self.node.start_mark.line
        for part in loc:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                match = next((pair for pair in node.value if pair[0].value == part), None)
                if match is None:
                    break
                line, node = match[0].start_mark.line, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line
            else:
                break
        return line + 1 + self.offset


@dataclass
class _Reader:
    """Reads files of one package folder, collecting problems instead of stopping at the first."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, line: int | None, field: str, message: str) -> None:
        self.problems.append(Problem(file, line, field, message))

    def read(self, relative: str, *, listed_at: tuple[str, int, str] | None = None) -> str | None:
        """A file's text, or None after noting why it cannot be used.

        `listed_at` is the file, line and field that name this file, where a missing file is
        reported.
        """
        file, at, name = listed_at or (relative, None, "")
        try:
            resolved = (self.root / relative).resolve(strict=True)
        except OSError:
            self.add(file, at, name, _("%(file)s does not exist", file=relative))
            return None
        # A symbolic link may point anywhere; only files inside the package folder are read.
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            problem = _("%(file)s is not a file inside the package folder", file=relative)
            self.add(file, at, name, problem)
            return None
        if resolved.stat().st_size > MAX_FILE_BYTES:
            self.add(relative, None, "", _("larger than 1 MB; is this the right file?"))
            return None
        try:
            text = resolved.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.add(relative, None, "", _("not UTF-8 text"))
            return None
        except OSError as exc:
            self.add(relative, None, "", _("cannot be read: %(reason)s", reason=exc.strerror))
            return None
        return text.removeprefix("\ufeff").replace("\r\n", "\n")

    def parse(self, file: str, text: str, *, offset: int = 0) -> _Document | None:
        """The YAML document in `text`, or None after noting a syntax error."""
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 + offset if mark else None
            detail = exc.problem or exc.context
            self.add(file, line, "", _("invalid YAML: %(detail)s", detail=detail))
            return None
        except yaml.YAMLError as exc:
            self.add(file, None, "", _("invalid YAML: %(detail)s", detail=exc))
            return None
        finally:
            loader.dispose()
        if node is None or not isinstance(data, dict):
            problem = _("expected fields such as `slug: …`, one per line")
            self.add(file, 1 + offset, "", problem)
            return None
        document = _Document(file, node, data, offset)
        problems = len(self.problems)
        self._check_nodes(document, node, (), set())
        return document if len(self.problems) == problems else None

    def _check_nodes(
        self, doc: _Document, node: yaml.Node, loc: tuple[str | int, ...], seen: set[int]
    ) -> None:
        """Refuse repeated keys and aliases, which PyYAML accepts without a word."""
        # An alias makes one node appear twice; recursive or nested aliases could make the
        # data endless or huge, and a course file has no need for them.
        if id(node) in seen:
            line = node.start_mark.line + 1 + doc.offset
            problem = _("anchors and aliases (& and *) are not supported")
            self.add(doc.file, line, _dotted(loc), problem)
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
                if name in keys:
                    line = key.start_mark.line + 1 + doc.offset
                    self.add(doc.file, line, _dotted((*loc, name)), _("appears twice"))
                keys.add(name)
                self._check_nodes(doc, value, (*loc, name), seen)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._check_nodes(doc, item, (*loc, index), seen)

    def validate(self, model: type[_Model], doc: _Document) -> _Model | None:
        """`doc` as `model`, or None after noting each field that is wrong."""
        try:
            return model.model_validate(doc.data)
        except ValidationError as exc:
            for error in exc.errors():
                loc, message = _describe(error)
                self.add(doc.file, doc.line(loc), _dotted(loc), message)
            return None


def load_package(path: Path) -> CoursePackage:
    """Read and check the package in folder `path`; raises PackageError listing every problem."""
    # Only the folder name is looked at before the slug is known to be sane, and only
    # course.yaml before its slug is known to match the folder.
    folder = Path(os.path.abspath(path))
    if not is_slug(folder.name):
        problem = _(
            "the folder name %(name)s must be the course slug "
            "(a-z, 0-9 and hyphens, 3–80 characters)",
            name=repr(folder.name),
        )
        raise PackageError([Problem("", None, "", problem)])
    if not folder.is_dir():
        problem = _("there is no folder %(path)s", path=repr(str(path)))
        raise PackageError([Problem("", None, "", problem)])
    reader = _Reader(folder.resolve())
    text = reader.read(COURSE_FILE)
    doc = reader.parse(COURSE_FILE, text) if text is not None else None
    if doc is None or not _slug_matches(reader, doc, folder.name):
        raise PackageError(reader.problems)
    course = reader.validate(CourseManifest, doc)
    lessons, lines = _load_lessons(reader, doc)
    questionnaires = _load_questionnaires(reader, lines)
    _check_check_ins(reader, doc, questionnaires)
    if reader.problems or course is None:
        raise PackageError(reader.problems)
    if course.cover_image:
        lines[(COURSE_FILE, "cover_image")] = doc.line(("cover_image",))
    if course.instructor is not None and course.instructor.photo:
        lines[(COURSE_FILE, "instructor.photo")] = doc.line(("instructor", "photo"))
    package = CoursePackage(
        course=course, lessons=lessons, lines=lines, questionnaires=questionnaires
    )
    return replace(package, media=_brought_files(reader.root, package))


def _brought_files(root: Path, package: CoursePackage) -> dict[str, Path]:
    """The files in media/ that the package names, by name; the import checks what they hold.

    Other files there are not part of the course and are left alone, as a link that leads
    out of the package folder is.
    """
    found: dict[str, Path] = {}
    for ref in package.media_refs():
        path = root / MEDIA_DIR / ref.name
        try:
            resolved = path.resolve(strict=True)
        except OSError:
            continue
        if resolved.is_relative_to(root) and resolved.is_file():
            found[ref.name] = resolved
    return found


def _slug_matches(reader: _Reader, doc: _Document, folder_name: str) -> bool:
    slug = doc.data.get("slug")
    line = doc.line(("slug",))
    if not isinstance(slug, str) or not is_slug(slug):
        problem = _("required: a-z, 0-9 and hyphens, 3–80 characters")
        reader.add(COURSE_FILE, line, "slug", problem)
        return False
    if slug != folder_name:
        problem = _(
            "%(slug)s differs from the folder name %(folder)s; they must be the same",
            slug=repr(slug),
            folder=repr(folder_name),
        )
        reader.add(COURSE_FILE, line, "slug", problem)
        return False
    return True


def _listed_lessons(reader: _Reader, doc: _Document) -> dict[str, tuple[str | int, ...]]:
    """The lesson files course.yaml lists, each with its field path; bad names are skipped."""
    listed: dict[str, tuple[str | int, ...]] = {}
    modules = doc.data.get("modules")
    for m, module in enumerate(modules if isinstance(modules, list) else []):
        names = module.get("lessons") if isinstance(module, dict) else None
        for n, name in enumerate(names if isinstance(names, list) else []):
            loc = ("modules", m, "lessons", n)
            if not isinstance(name, str) or not is_lesson_file(name):
                continue  # reported by the schema check of course.yaml
            if name in listed:
                problem = _("%(file)s is listed twice", file=name)
                reader.add(COURSE_FILE, doc.line(loc), _dotted(loc), problem)
            else:
                listed[name] = loc
    return listed


def _load_lessons(
    reader: _Reader, doc: _Document
) -> tuple[dict[str, PackageLesson], dict[tuple[str, str], int]]:
    """The lessons by file name, and the line of each uploaded video and picture they name."""
    lessons: dict[str, PackageLesson] = {}
    slug_lines: dict[str, int] = {}
    video_lines: dict[tuple[str, str], int] = {}
    listed = _listed_lessons(reader, doc)
    for name, loc in listed.items():
        listed_at = (COURSE_FILE, doc.line(loc), _dotted(loc))
        text = reader.read(f"{LESSONS_DIR}/{name}", listed_at=listed_at)
        parsed = _parse_lesson(reader, name, text) if text is not None else None
        if parsed is not None:
            lessons[name], slug_lines[name], media_lines = parsed
            for field, line in media_lines.items():
                video_lines[(f"{LESSONS_DIR}/{name}", field)] = line
    _check_unlisted_files(reader, set(listed))
    _check_unique_slugs(reader, lessons, slug_lines)
    return lessons, video_lines


def _parse_lesson(
    reader: _Reader, name: str, text: str
) -> tuple[PackageLesson, int, dict[str, int]] | None:
    """The lesson in a file, the line of its slug and those of the files it names (by field),
    or None after noting its problems."""
    file = f"{LESSONS_DIR}/{name}"
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        reader.add(file, 1, "", _("must start with a line `---` that opens the front matter"))
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        reader.add(file, 1, "", _("the front matter is not closed by a line `---`"))
        return None
    doc = reader.parse(file, "\n".join(lines[1:end]) + "\n", offset=1)
    meta = reader.validate(LessonMeta, doc) if doc is not None else None
    if doc is None or meta is None:
        return None
    # Blank lines after the front matter and trailing white space are layout, not content.
    body = _LEADING_BLANK_LINES.sub("", "\n".join(lines[end + 1 :])).rstrip()
    lesson = PackageLesson(file_name=name, meta=meta, body=body)
    media_lines = {"video.id": doc.line(("video", "id"))}
    for number, _step in enumerate(meta.steps):
        field = f"steps.{number}.picture.file"
        media_lines[field] = doc.line(("steps", number, "picture", "file"))
    return lesson, doc.line(("slug",)), media_lines


def _check_unlisted_files(reader: _Reader, listed: set[str]) -> None:
    lessons_dir = reader.root / LESSONS_DIR
    if not lessons_dir.is_dir() or not lessons_dir.resolve().is_relative_to(reader.root):
        return
    for entry in sorted(lessons_dir.iterdir()):
        hidden = entry.name.startswith(".")
        if entry.name.endswith(".md") and not hidden and entry.name not in listed:
            problem = _("not listed in course.yaml: add it to a module's lessons, or remove it")
            reader.add(f"{LESSONS_DIR}/{entry.name}", None, "", problem)


def _check_unique_slugs(
    reader: _Reader, lessons: dict[str, PackageLesson], slug_lines: dict[str, int]
) -> None:
    first: dict[str, str] = {}
    for name, lesson in lessons.items():
        slug = lesson.meta.slug
        if slug in first:
            problem = _(
                "%(slug)s is also the slug of %(file)s",
                slug=repr(slug),
                file=f"{LESSONS_DIR}/{first[slug]}",
            )
            reader.add(f"{LESSONS_DIR}/{name}", slug_lines[name], "slug", problem)
        else:
            first[slug] = name


def _load_questionnaires(
    reader: _Reader, lines: dict[tuple[str, str], int]
) -> dict[str, QuestionnaireManifest]:
    """Every questionnaires/<slug>.yaml by slug; the lines of their slugs and bands' courses go
    into `lines`, for the checks only the import can make."""
    folder = reader.root / QUESTIONNAIRES_DIR
    if not folder.is_dir() or not folder.resolve().is_relative_to(reader.root):
        return {}
    found: dict[str, QuestionnaireManifest] = {}
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith(".") or not name.endswith((".yaml", ".yml")):
            continue
        file = f"{QUESTIONNAIRES_DIR}/{name}"
        stem = name.rsplit(".", 1)[0]
        if not is_slug(stem) or not name.endswith(".yaml"):
            problem = _(
                "a questionnaire file is named after its slug: <slug>.yaml, with a-z, 0-9 and "
                "hyphens, 3–80 characters"
            )
            reader.add(file, None, "", problem)
            continue
        questionnaire = _parse_questionnaire(reader, file, stem, lines)
        if questionnaire is not None:
            found[stem] = questionnaire
    return found


def _parse_questionnaire(
    reader: _Reader, file: str, stem: str, lines: dict[tuple[str, str], int]
) -> QuestionnaireManifest | None:
    text = reader.read(file)
    doc = reader.parse(file, text) if text is not None else None
    manifest = reader.validate(QuestionnaireManifest, doc) if doc is not None else None
    if doc is None or manifest is None:
        return None
    if manifest.slug != stem:
        problem = _(
            "%(slug)s differs from the file name %(file)s; they must be the same",
            slug=repr(manifest.slug),
            file=repr(f"{stem}.yaml"),
        )
        reader.add(file, doc.line(("slug",)), "slug", problem)
        return None
    problems = manifest.definition.problems()
    for found in problems:
        loc = _loc(found.where)
        reader.add(file, doc.line(loc) if loc else None, found.where, found.message)
    if problems:
        return None
    lines[(file, "slug")] = doc.line(("slug",))
    for index, band in enumerate(manifest.bands):
        if band.course is not None:
            lines[(file, f"bands[{index}].course")] = doc.line(("bands", index, "course"))
    return manifest


def _loc(where: str) -> tuple[str | int, ...]:
    """A field path as problems() writes it (items[2].options) as the parts of a location."""
    return tuple(name if name else int(number) for name, number in _WHERE_PART.findall(where))


def _check_check_ins(
    reader: _Reader, doc: _Document, questionnaires: dict[str, QuestionnaireManifest]
) -> None:
    """Each check-in names a questionnaire of the package, and a module the course has.

    Read from the text as written, so these problems are listed with those of the schema.
    """
    # A questionnaire file with problems of its own is reported there, not again at every
    # check-in that names it.
    folder = reader.root / QUESTIONNAIRES_DIR
    present = {path.stem for path in folder.glob("*.yaml")} if folder.is_dir() else set()
    modules, check_ins = doc.data.get("modules"), doc.data.get("check_ins")
    count = len(modules) if isinstance(modules, list) else 0
    for index, check_in in enumerate(check_ins if isinstance(check_ins, list) else []):
        if not isinstance(check_in, dict):
            continue
        named, module = check_in.get("questionnaire"), check_in.get("module")
        if isinstance(named, str) and is_slug(named) and named not in present | set(questionnaires):
            loc: tuple[str | int, ...] = ("check_ins", index, "questionnaire")
            problem = _(
                "there is no %(file)s in this package",
                file=f"{QUESTIONNAIRES_DIR}/{named}.yaml",
            )
            reader.add(COURSE_FILE, doc.line(loc), _dotted(loc), problem)
        if isinstance(module, int) and not isinstance(module, bool) and module > count > 0:
            loc = ("check_ins", index, "module")
            problem = ngettext(
                "the course has %(num)s module; count from 1",
                "the course has %(num)s modules; count from 1",
                count,
            )
            reader.add(COURSE_FILE, doc.line(loc), _dotted(loc), problem)


_MESSAGES = {
    "missing": N_("required"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "bool_type": N_("must be true or false"),
    "string_type": N_("must be text (put it in quotes)"),
    "list_type": N_("must be a list"),
    "model_type": N_("must be a group of fields (key: value)"),
    "model_attributes_type": N_("must be a group of fields (key: value)"),
    "dict_type": N_("must be a group of fields (key: value)"),
    "string_too_short": N_("must not be empty"),
    "union_tag_not_found": N_("required: text, exercise or breathing"),
    "union_tag_invalid": N_("must be text, exercise or breathing"),
    "decimal_parsing": N_("must be a number"),
    "decimal_type": N_("must be a number"),
}
# The same errors for a questionnaire's items, whose kinds are other ones.
_ITEM_MESSAGES = {
    "union_tag_not_found": N_("required: scale, single, multiple, warning or text"),
    "union_tag_invalid": N_("must be scale, single, multiple, warning or text"),
}


def _describe(error: ErrorDetails) -> tuple[tuple[str | int, ...], str]:
    """A field path without pydantic's union tags, and a short message for a person."""
    loc: list[str | int] = []
    tag: str | None = None
    item = bool(error["loc"]) and error["loc"][0] == "items"
    kinds = _ITEM_KINDS if item else _STEP_KINDS
    for part in error["loc"]:
        # A discriminated union puts the step's kind into the path: steps.1.exercise.reps.
        if isinstance(part, str) and part in kinds and loc and isinstance(loc[-1], int):
            tag = part
            continue
        loc.append(part)
    kind = error["type"]
    if kind.startswith("union_tag"):
        loc.append("kind")
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden" and item:
        message = (
            _("not allowed in a question of kind %(kind)s", kind=tag) if tag else _("unknown field")
        )
    elif kind == "extra_forbidden":
        message = (
            _("not allowed in a step of kind %(kind)s", kind=tag) if tag else _("unknown field")
        )
    elif item and kind in _ITEM_MESSAGES:
        message = _(_ITEM_MESSAGES[kind])
    elif kind == "string_too_long":
        message = _("at most %(num)s characters", num=ctx.get("max_length"))
    elif kind == "enum":
        message = _("must be %(expected)s", expected=ctx.get("expected"))
    elif kind in _MESSAGES:
        message = _(_MESSAGES[kind])
    else:
        # Kern's own checks (schema.py) give translated messages; pydantic's are English.
        message = error["msg"][:1].lower() + error["msg"][1:]
    return tuple(loc), message


def _dotted(loc: Sequence[str | int]) -> str:
    """A field path as a person writes it: steps[1].hold_seconds."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
