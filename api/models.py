"""Every table Kern has, imported in one place for Alembic and the tests."""

from api.accounts.models import AccountRequest, AccountToken, AuthSession, RecoveryCode, User
from api.catalog.models import Course, Lesson, Module, Step
from api.consent.models import Consent
from api.db import metadata
from api.enrolment.models import Enrolment
from api.mail.models import OutboxMessage
from api.media.models import MediaFile
from api.payments.models import Order, StripeEvent
from api.practice_identity.models import PracticeIdentity
from api.progress.models import LessonProgress, PracticeLog
from api.questionnaires.models import CheckIn, Measurement, Questionnaire, SelfTestTally
from api.ratelimit.models import RateLimitHit
from api.reminders.models import MailPreference

__all__ = [
    "AccountRequest",
    "AccountToken",
    "AuthSession",
    "CheckIn",
    "Consent",
    "Course",
    "Enrolment",
    "Lesson",
    "LessonProgress",
    "MailPreference",
    "Measurement",
    "MediaFile",
    "Module",
    "Order",
    "OutboxMessage",
    "PracticeIdentity",
    "PracticeLog",
    "Questionnaire",
    "RateLimitHit",
    "RecoveryCode",
    "SelfTestTally",
    "Step",
    "StripeEvent",
    "User",
    "metadata",
]
