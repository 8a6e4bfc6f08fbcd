"""The instructor's studio: one router made of the studio's areas."""

from fastapi import APIRouter

from web.pages.studio import learners

router = APIRouter(include_in_schema=False)
router.include_router(learners.router)
