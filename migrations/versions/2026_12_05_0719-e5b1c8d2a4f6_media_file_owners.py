"""media_file: which course owns which file in MEDIA_DIR

Until now any course could name any stored file, and `/media/<name>` served a video to whoever
could open any lesson naming it. From here on a file belongs to the courses recorded here.
Existing files get the owners the data suggests: every file a course names (its cover, its
lessons' uploaded videos) is owned by that course.

Revision ID: e5b1c8d2a4f6
Revises: e5c3b8a1f2d4
Created: 2026-12-05 07:19:07.247950+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "e5b1c8d2a4f6"
down_revision: str | None = "e5c3b8a1f2d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (course id, its instructor, when it was made, the file it names, how it names it)
NAMED = sa.text(
    "SELECT id, instructor_id, created_at, cover_image, 'image' FROM course "
    "WHERE cover_image IS NOT NULL AND cover_image <> '' "
    "UNION "
    "SELECT course.id, course.instructor_id, course.created_at, lesson.video_ref, 'video' "
    "FROM lesson JOIN course ON course.id = lesson.course_id "
    "WHERE lesson.video_provider = 'file' AND lesson.video_ref IS NOT NULL "
    "AND lesson.video_ref <> ''"
)


def upgrade() -> None:
    media_file = op.create_table(
        "media_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('image', 'video')", name=op.f("ck_media_file_kind")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_media_file_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_file")),
    )
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.create_index("ix_media_file_course_id", ["course_id"], unique=False)
        batch_op.create_index("uq_media_file_name_course_id", ["name", "course_id"], unique=True)
    rows = owners([tuple(row) for row in op.get_bind().execute(NAMED)])
    if rows:
        op.bulk_insert(media_file, rows)


def owners(named: Sequence[tuple[Any, ...]]) -> list[dict[str, object]]:
    """A media_file row for each course that names a file and may keep it.

    When courses of different instructors name the same file, only one instructor can be its
    owner, and the earliest course (by creation, then id) decides: an upload always lands in
    a course that exists already, while a course naming someone else's file is the one that
    copied a name later (the leak this table closes was an import naming another instructor's
    paid video). That instructor's other courses naming the file keep it too; the other
    instructors' courses still name it, but `/media/` no longer serves it by their rules.
    """
    by_name: dict[str, list[tuple[object, int, int, str]]] = {}
    for course_id, instructor_id, created_at, name, kind in named:
        by_name.setdefault(name, []).append((created_at, course_id, instructor_id, kind))
    now = datetime.now(UTC)
    rows: dict[tuple[str, int], dict[str, object]] = {}
    for name, courses in by_name.items():
        courses.sort(key=lambda course: (_moment(course[0]), course[1]))
        owner = courses[0][2]
        for _created, course_id, instructor_id, kind in courses:
            if instructor_id != owner:
                continue
            row = rows.setdefault((name, course_id), {"name": name, "course_id": course_id})
            # A file a lesson shows is a video, even if the course also (oddly) shows it as
            # its cover.
            if row.get("kind") != "video":
                row["kind"] = kind
            row["created_at"] = now
    return list(rows.values())


def _moment(value: object) -> datetime:
    # PostgreSQL hands back datetimes, SQLite the text it stores.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def downgrade() -> None:
    with op.batch_alter_table("media_file", schema=None) as batch_op:
        batch_op.drop_index("uq_media_file_name_course_id")
        batch_op.drop_index("ix_media_file_course_id")
    op.drop_table("media_file")
