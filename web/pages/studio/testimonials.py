"""Adding and removing the words of earlier participants on the studio's course page."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import RequireInstructor
from api.clock import Now, local_day
from api.db import SessionDep
from api.errors import FormError
from api.kit.ids import PathId
from api.studio import testimonials as service
from api.studio.access import owned_course
from web.forms import Checkbox, Form, Posted, invalid, posted
from web.pages.studio.courses import course_page

router = APIRouter(include_in_schema=False)


class TestimonialForm(Form):
    testimonial_name: str = ""
    testimonial_text: str = ""
    testimonial_permission: Checkbox = False


TestimonialPost = Annotated[Posted[TestimonialForm], posted(TestimonialForm)]


@router.post("/studio/courses/{slug}/testimonials", response_class=HTMLResponse)
def add_testimonial(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    form: TestimonialPost,
) -> Response:
    """Add a participant's words, with the day her permission was noted."""
    course = owned_course(session, viewer=user, slug=slug)
    try:
        data = form.valid()
        service.add(
            session,
            course=course,
            name=data.testimonial_name,
            text=data.testimonial_text,
            permission=data.testimonial_permission,
            today=local_day(now),
        )
    except FormError as exc:
        return invalid(exc, course_page(request, session, course, **form.shown(exc)))
    url = f"/studio/courses/{course.slug}?notice=testimonial-added#testimonials"
    return RedirectResponse(url, status_code=303)


@router.post("/studio/courses/{slug}/testimonials/{position}/delete")
def delete_testimonial(
    session: SessionDep, user: RequireInstructor, slug: str, position: PathId
) -> RedirectResponse:
    """Take a participant's words off the course page."""
    course = owned_course(session, viewer=user, slug=slug)
    service.remove(session, course=course, number=position)
    url = f"/studio/courses/{course.slug}?notice=testimonial-deleted#testimonials"
    return RedirectResponse(url, status_code=303)
