"""What each synthetic learner did, as rows: enrolments, orders, lesson progress and practice.

Every learner draws from her own random generator, seeded by (--seed, her number, the phase),
so the rows do not depend on batch sizes or the backend, and the practice phase can replay the
progress timeline exactly instead of keeping three million visits in memory.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.catalog import schedule
from api.catalog.models import StepKind
from api.clock import local_day
from api.consent.models import ConsentKind
from api.consent.texts import HEALTH_DATA_VERSION
from api.enrolment.models import EnrolmentSource, EnrolmentStatus
from api.payments.models import OrderStatus
from api.progress.models import MAX_DURATION_SECONDS
from api.reminders import service as reminders

DAY = 86400
Row = tuple[object, ...]

FIRST_NAMES = (
    "Anna", "Sanne", "Lotte", "Emma", "Fleur", "Iris", "Noor", "Eva", "Lisa", "Marloes", "Ingrid",
    "Petra", "Annemiek", "Yvonne", "Carla", "Monique", "Fatima", "Samira", "Nadia", "Ayşe",
    "Esther", "Hanneke", "Wilma", "Joke", "Ria", "Sofie", "Julia", "Maaike", "Kim", "Linda",
    "Mark", "Peter", "Jeroen", "Ahmed", "Daan", "Sem", "Bram", "Kees", "Wim", "Ruben",
)  # fmt: skip
LAST_NAMES = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
    "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "Yılmaz", "el Idrissi", "Kaya",
    "Bouali", "Postma", "Kuipers", "Hoekstra", "Prins", "Huisman", "Verbeek",
)  # fmt: skip
NOTES = (
    "Ging goed vandaag.", "Rechts voelde zwaarder dan links.", "Even rustiger aan gedaan.",
    "Na het werk, beetje moe.", "Makkelijker dan vorige week!", "Adem bleef goed doorlopen.",
    "Met de oefenspeler gaat het tellen beter.", "Korte versie gedaan, druk dagje.",
)  # fmt: skip
REMINDER_DAYS = (0b0011111, 0b1111111, 0b0010101, 0b1000001, 0b0001010)
REMINDER_TIMES = ("07:30", "08:00", "12:30", "18:00", "19:30", "21:00")
# How many courses a learner follows: most one or two.
ENROLMENT_COUNTS, ENROLMENT_WEIGHTS = (1, 2, 3, 4), (38, 33, 18, 11)


@dataclass(frozen=True, slots=True)
class StepInfo:
    """A step that can be practised and logged (exercise or breathing)."""

    id: int
    lesson_id: int
    course_id: int
    kind: str
    title: str
    sets: int
    reps: int  # all repetitions of a full practice: reps × sets, or breathing cycles
    seconds: int


@dataclass(frozen=True, slots=True)
class LessonInfo:
    id: int
    unlock_after_days: int
    minutes: int
    file_video: bool
    steps: tuple[StepInfo, ...]


@dataclass(frozen=True, slots=True)
class CourseInfo:
    id: int
    slug: str
    title: str
    price_cents: int
    drip: bool
    instructor_id: int
    weight: float  # how popular: the chance of being chosen, relative to the others
    lessons: tuple[LessonInfo, ...]


@dataclass(frozen=True, slots=True)
class Enrolled:
    """One planned enrolment; times are whole seconds since the epoch."""

    course: CourseInfo
    enrolled_at: int
    status: str
    changed_at: int
    source: str

    def until(self, now: int) -> int:
        """The last moment she could use the course: now, or when she lost access."""
        return now if self.status == EnrolmentStatus.active else self.changed_at


@dataclass(frozen=True, slots=True)
class Learner:
    number: int
    name: str
    language: str
    created_at: int
    enrolments: tuple[Enrolled, ...]


@dataclass(frozen=True, slots=True)
class Visit:
    """A lesson she opened (and maybe completed), by its index in the course."""

    lesson: int
    visited_at: int
    completed_at: int | None
    video_position: int


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def rng_for(seed: int, number: int, phase: str) -> random.Random:
    # A string seed is hashed with SHA-512 by random.seed, the same in every process.
    return random.Random(f"{seed}:{number}:{phase}")  # noqa: S311 (sample data, not secrets)


def plan_learner(seed: int, number: int, courses: list[CourseInfo], now: int) -> Learner:
    """Who learner `number` is and which courses she joined when, in the year before `now`."""
    rng = rng_for(seed, number, "learner")
    wanted = rng.choices(ENROLMENT_COUNTS, ENROLMENT_WEIGHTS)[0]
    chosen: list[CourseInfo] = []
    weights = [course.weight for course in courses]
    while len(chosen) < min(wanted, len(courses)):
        course = rng.choices(courses, weights)[0]
        if course not in chosen:
            chosen.append(course)
    # More recent enrolments than old ones: a growing platform.
    moment = now - int(365 * DAY * rng.random() ** 1.4) - rng.randint(0, DAY)
    enrolments = []
    for course in chosen:
        enrolments.append(_enrolled(rng, course, min(moment, now - 60), now))
        moment += int(rng.expovariate(1 / (30 * DAY)))
    first = enrolments[0].enrolled_at
    signed_up = first - (
        rng.randint(60, 7200) if rng.random() < 0.7 else rng.randint(DAY, 60 * DAY)
    )
    return Learner(
        number=number,
        name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        language="en" if rng.random() < 0.04 else "nl",
        created_at=signed_up,
        enrolments=tuple(enrolments),
    )


def _enrolled(rng: random.Random, course: CourseInfo, enrolled_at: int, now: int) -> Enrolled:
    paid = course.price_cents > 0
    source = EnrolmentSource.free if not paid else EnrolmentSource.purchase
    if paid and rng.random() < 0.05:
        source = EnrolmentSource.manual  # paid by bank transfer, granted by the instructor
    status, changed_at = EnrolmentStatus.active, enrolled_at
    draw = rng.random()
    if draw < 0.005 or (paid and draw < 0.025):
        status = EnrolmentStatus.revoked if draw < 0.005 else EnrolmentStatus.refunded
        changed_at = min(enrolled_at + rng.randint(DAY, 20 * DAY), now - 60)
    if status == EnrolmentStatus.refunded and source != EnrolmentSource.purchase:
        status = EnrolmentStatus.revoked  # only a purchase can be refunded
    return Enrolled(course, enrolled_at, status.value, changed_at, source.value)


def user_row(learner: Learner, password_hash: str, now: int) -> Row:
    verified = min(learner.created_at + 300, now)
    return (
        f"learner{learner.number}@scale.kern.test",
        learner.name,
        password_hash,
        "learner",
        learner.language,
        at(verified),
        at(learner.created_at),
        # Every synthetic learner agreed to keeping her practice when she signed up (consent_row).
        HEALTH_DATA_VERSION,
    )


def consent_row(learner: Learner, user_id: int) -> Row:
    """Her consent to keeping health data, given when her account was made."""
    return (
        user_id,
        ConsentKind.health_data.value,
        HEALTH_DATA_VERSION,
        learner.language,
        at(learner.created_at),
    )


def preference_row(seed: int, learner: Learner, user_id: int, now: int) -> Row | None:
    """Mail choices for about a quarter of the learners; the rest keep the defaults (no row)."""
    rng = rng_for(seed, learner.number, "mail")
    if rng.random() >= 0.25:
        return None
    days = rng.choice(REMINDER_DAYS)
    times = sorted(rng.sample(REMINDER_TIMES, rng.randint(1, 2)))
    # One in ten stopped her reminders with the link in a mail: days and times, no next one.
    upcoming = None if rng.random() < 0.1 else reminders.next_occurrence(days, times, after=at(now))
    changed = min(learner.created_at + rng.randint(600, 30 * DAY), now)
    return (user_id, days, ",".join(times), upcoming, rng.random() < 0.85, True, at(changed))


def enrolment_rows(learner: Learner, user_id: int) -> list[Row]:
    rows: list[Row] = []
    for item in learner.enrolments:
        by_hand = item.source == EnrolmentSource.manual or item.status == EnrolmentStatus.revoked
        note = "Betaald per bankoverschrijving" if item.source == EnrolmentSource.manual else ""
        rows.append(
            (
                user_id,
                item.course.id,
                item.source,
                item.status,
                at(item.enrolled_at),
                at(item.changed_at),
                note,
                item.course.instructor_id if by_hand else None,
            )
        )
    return rows


def order_rows(seed: int, learner: Learner, user_id: int) -> list[Row]:
    """A paid order behind each purchase (refunded when the enrolment was)."""
    rng = rng_for(seed, learner.number, "orders")
    rows: list[Row] = []
    for item in learner.enrolments:
        if item.source != EnrolmentSource.purchase:
            continue
        refunded = item.status == EnrolmentStatus.refunded
        status = OrderStatus.refunded if refunded else OrderStatus.paid
        price, paid = item.course.price_cents, item.enrolled_at
        token = f"{rng.getrandbits(96):024x}"
        rows.append(
            (
                user_id,
                item.course.id,
                item.course.title[:200],
                status.value,
                "eur",
                price,
                0,
                price,
                f"cs_test_scale{token}",
                f"pi_scale{token}",
                f"ch_scale{token}",
                at(paid - rng.randint(60, 900)),
                at(paid),
                at(item.changed_at) if refunded else None,
                at(item.changed_at if refunded else paid),
                at(paid + 5),
            )
        )
    return rows


def timeline(rng: random.Random, item: Enrolled, now: int) -> list[Visit]:
    """The lessons she opened in order, each once its drip module was open, until `now` or
    until she lost access."""
    lessons = item.course.lessons
    until = item.until(now)
    opens: dict[int, int] = {}
    if item.course.drip:
        enrolled = at(item.enrolled_at)
        days = {lesson.unlock_after_days for lesson in lessons}
        opens = {day: int(schedule.opens_at(enrolled, day).timestamp()) for day in days}
    draw = rng.random()
    # Four in ten follow everything that is open, one in ten stops early, the rest go part way.
    share = 1.0 if draw < 0.4 else rng.uniform(0.05, 0.3) if draw < 0.5 else rng.uniform(0.4, 1)
    target = max(1, round(share * len(lessons)))
    pace = rng.choice((0.5, 1, 1.5, 2.5)) * DAY  # mean time between two lessons
    moment = item.enrolled_at + rng.randint(60, 3600)
    visits: list[Visit] = []
    for index, lesson in enumerate(lessons[:target]):
        opening = opens.get(lesson.unlock_after_days, item.enrolled_at)
        if moment < opening:
            moment = opening + int(rng.expovariate(1 / (8 * 3600)))
        if moment > until:
            break
        done = rng.random() < (0.5 if index == target - 1 else 0.97)
        completed = moment + int(lesson.minutes * 60 * rng.uniform(0.8, 1.6)) if done else None
        if completed is not None and completed > until:
            completed = None
        position = rng.randint(10, lesson.minutes * 60) if lesson.file_video and not done else 0
        visits.append(Visit(index, moment, completed, position))
        moment = (completed or moment) + int(rng.expovariate(1 / pace))
    return visits


def timelines(seed: int, learner: Learner, now: int) -> list[tuple[Enrolled, list[Visit]]]:
    """Her timeline in each course; the same every time it is asked for."""
    rng = rng_for(seed, learner.number, "progress")
    return [(item, timeline(rng, item, now)) for item in learner.enrolments]


def progress_rows(seed: int, learner: Learner, user_id: int, now: int) -> list[Row]:
    rows: list[Row] = []
    for item, visits in timelines(seed, learner, now):
        for visit in visits:
            lesson = item.course.lessons[visit.lesson]
            changed = visit.completed_at or visit.visited_at
            rows.append(
                (
                    user_id,
                    lesson.id,
                    item.course.id,
                    at(visit.visited_at),
                    at(visit.completed_at) if visit.completed_at else None,
                    visit.video_position,
                    at(changed),
                )
            )
    return rows


def practice_rows(seed: int, learner: Learner, user_id: int, now: int) -> list[Row]:
    """About fifteen practices of the exercises and breathing in lessons she had opened, each
    after she opened the lesson and while she could still open it."""
    # Per opened lesson with something to practise: its steps and the window to practise in.
    windows = [
        (steps, visit.visited_at, min(until, visit.visited_at + 120 * DAY))
        for item, visits in timelines(seed, learner, now)
        for until in (item.until(now),)
        for visit in visits
        if (steps := item.course.lessons[visit.lesson].steps)
    ]
    if not windows:
        return []
    rng = rng_for(seed, learner.number, "practice")
    return [
        _practice(rng, rng.choice(windows), user_id=user_id, now=now)
        for _ in range(rng.randint(6, 26))
    ]


Window = tuple[tuple[StepInfo, ...], int, int]


def _practice(rng: random.Random, window: Window, *, user_id: int, now: int) -> Row:
    steps, start, end = window
    step = rng.choice(steps)
    practised = at(start + int((end - start) * rng.random()))
    share = 1.0 if rng.random() < 0.85 else rng.uniform(0.3, 0.9)  # sometimes stopped early
    return (
        user_id,
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        step.id,
        step.lesson_id,
        step.course_id,
        step.title[:200],
        step.kind,
        practised,
        local_day(practised),
        min(int(step.seconds * share), MAX_DURATION_SECONDS),
        min(int(step.sets * share), 100),
        min(int(step.reps * share), 10000),
        rng.choice((2, 3, 3, 4, 4, 5)) if step.kind == StepKind.exercise else None,
        rng.choice(NOTES) if rng.random() < 0.08 else "",
        min(practised + timedelta(seconds=rng.randint(1, 120)), at(now)),
    )
