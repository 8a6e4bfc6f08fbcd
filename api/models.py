"""Every table Kern has, imported in one place for Alembic and the tests."""

from api.accounts.models import AccountRequest, AccountToken, AuthSession, RecoveryCode, User
from api.articles.models import Article, ArticleComment
from api.attention.models import AttentionHandled
from api.catalog.models import Course, InstructorProfile, Lesson, Module, Step
from api.certificates.models import Certificate
from api.cohorts.models import Cohort, CohortSeat
from api.consent.models import Consent
from api.db import metadata
from api.enrolment.models import Enrolment
from api.intake.models import IntakeBooking, IntakeException, IntakeHours, IntakeSetting
from api.invoices.models import Invoice, InvoiceCounter
from api.journal.models import JournalEntry
from api.mail.models import OutboxMessage
from api.media.models import MediaFile, VideoStream
from api.messages.models import LessonQuestion, Message, Thread
from api.payments.billing_models import DiscountCode, OrderDiscount, PaymentPlan
from api.payments.models import Order, StripeEvent
from api.practice_identity.models import PracticeIdentity
from api.progress.models import LessonProgress, PracticeLog
from api.push.models import PushSubscription
from api.questionnaires.models import CheckIn, Measurement, Questionnaire, SelfTestTally
from api.ratelimit.models import RateLimitHit
from api.reminders.models import MailPreference
from api.terms.models import TermsVersion

__all__ = [
    "AccountRequest",
    "AccountToken",
    "Article",
    "ArticleComment",
    "AttentionHandled",
    "AuthSession",
    "Certificate",
    "CheckIn",
    "Cohort",
    "CohortSeat",
    "Consent",
    "Course",
    "DiscountCode",
    "Enrolment",
    "InstructorProfile",
    "IntakeBooking",
    "IntakeException",
    "IntakeHours",
    "IntakeSetting",
    "Invoice",
    "InvoiceCounter",
    "JournalEntry",
    "Lesson",
    "LessonProgress",
    "LessonQuestion",
    "MailPreference",
    "Measurement",
    "MediaFile",
    "Message",
    "Module",
    "Order",
    "OrderDiscount",
    "OutboxMessage",
    "PaymentPlan",
    "PracticeIdentity",
    "PracticeLog",
    "PushSubscription",
    "Questionnaire",
    "RateLimitHit",
    "RecoveryCode",
    "SelfTestTally",
    "Step",
    "StripeEvent",
    "TermsVersion",
    "Thread",
    "User",
    "VideoStream",
    "metadata",
]
