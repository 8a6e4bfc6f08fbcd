"""Conversations between a learner and her course's instructor."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course
from api.kit.ids import id_of
from api.messages.models import Message, Thread


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her conversations, each with every message both ways, oldest first (one statement)."""
    rows = session.exec(
        select(Thread, Course, Message)
        .join(Course, col(Course.id) == Thread.course_id)
        .join(Message, col(Message.thread_id) == Thread.id)
        .where(Thread.learner_id == id_of(user))
        .order_by(col(Thread.id), col(Message.created_at), col(Message.id))
    ).all()
    threads: dict[int, dict[str, Any]] = {}
    for thread, course, message in rows:
        entry = threads.setdefault(
            id_of(thread),
            {"course": course.title, "course_slug": course.slug, "messages": []},
        )
        entry["messages"].append(
            {
                "from": "you" if message.from_learner else "instructor",
                "text": message.body,
                "lesson_id": message.lesson_id,
                "sent_at": message.created_at.isoformat(),
            }
        )
    return list(threads.values())


def erase(session: Session, *, user: User) -> None:
    """Delete her conversations (their messages go with them)."""
    session.execute(delete(Thread).where(col(Thread.learner_id) == id_of(user)))
