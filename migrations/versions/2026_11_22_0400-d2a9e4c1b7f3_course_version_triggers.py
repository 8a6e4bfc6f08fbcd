"""course.content_version follows every change of a course's modules, lessons and steps

Pages cache a course's content per worker process and reuse it while `course.content_version`
stays the same. Triggers bump it, so no writer (studio, import, a script, plain SQL) can forget
to. (`course.version` stays what it was: the instructor's saves, which the import reports.)

Revision ID: d2a9e4c1b7f3
Revises: c11c6e0fa1f0
Created: 2026-11-22 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2a9e4c1b7f3"
down_revision: str | None = "c11c6e0fa1f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> how a row of it names its course (NEW/OLD are filled in per operation)
COURSE_OF = {
    "course_module": "{row}.course_id",
    "lesson": "{row}.course_id",
    "lesson_step": "(SELECT course_id FROM lesson WHERE lesson.id = {row}.lesson_id)",
}
BUMP = "UPDATE course SET content_version = content_version + 1 WHERE id = {course}"

POSTGRES_FUNCTION = """
CREATE FUNCTION kern_bump_course_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_course integer;
    new_course integer;
BEGIN
    IF TG_TABLE_NAME = 'lesson_step' THEN
        IF TG_OP <> 'INSERT' THEN
            SELECT course_id INTO old_course FROM lesson WHERE id = OLD.lesson_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            SELECT course_id INTO new_course FROM lesson WHERE id = NEW.lesson_id;
        END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN old_course := OLD.course_id; END IF;
        IF TG_OP <> 'DELETE' THEN new_course := NEW.course_id; END IF;
    END IF;
    UPDATE course SET content_version = content_version + 1
    WHERE id IN (old_course, new_course);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("course") as batch_op:
        batch_op.add_column(
            sa.Column("content_version", sa.Integer(), server_default="0", nullable=False)
        )
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for table in COURSE_OF:
            op.execute(
                f"CREATE TRIGGER {table}_bumps_course_version "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kern_bump_course_version()"
            )
        return
    # SQLite: one trigger per table and operation.
    for table, course_of in COURSE_OF.items():
        for operation, rows in (
            ("INSERT", ["NEW"]),
            ("UPDATE", ["OLD", "NEW"]),
            ("DELETE", ["OLD"]),
        ):
            body = " ".join(BUMP.format(course=course_of.format(row=row)) + ";" for row in rows)
            op.execute(
                f"CREATE TRIGGER {table}_{operation.lower()}_bumps_course_version "
                f"AFTER {operation} ON {table} FOR EACH ROW BEGIN {body} END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in COURSE_OF:
            op.execute(f"DROP TRIGGER {table}_bumps_course_version ON {table}")
        op.execute("DROP FUNCTION kern_bump_course_version()")
    else:
        for table in COURSE_OF:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{operation}_bumps_course_version")
    with op.batch_alter_table("course") as batch_op:
        batch_op.drop_column("content_version")
