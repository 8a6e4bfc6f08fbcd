"""The instructor's studio: one router made of the studio's areas."""

from fastapi import APIRouter

from web.pages.studio import (
    articles,
    attention,
    cohorts,
    courses,
    discounts,
    inbox,
    insight,
    intake,
    learners,
    lessons,
    packages,
    practice,
    profile,
    questionnaires,
    testimonials,
    uploads,
)

router = APIRouter(include_in_schema=False)
router.include_router(courses.router)
router.include_router(attention.router)
router.include_router(learners.router)
router.include_router(insight.router)
router.include_router(lessons.router)
router.include_router(uploads.router)
router.include_router(packages.router)
router.include_router(practice.router)
router.include_router(discounts.router)
router.include_router(profile.router)
router.include_router(testimonials.router)
router.include_router(questionnaires.router)
router.include_router(inbox.router)
router.include_router(intake.router)
router.include_router(cohorts.router)
router.include_router(articles.router)
router.include_router(articles.upload_router)
