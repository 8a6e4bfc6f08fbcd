"""HTML forms as typed models: parse what she typed, check it, and keep it for the page again.

Each form is one pydantic model, a subclass of `Form`. Its fields say what every input becomes
(text, a whole number, a ticked box) and which checks it must pass; a broken rule reads as a
message in her language at that input. A route takes the form as `Posted[ThatForm]`, made by
the `posted(ThatForm)` dependency from the request's form data:

    ProfilePost = Annotated[Posted[ProfileForm], posted(ProfileForm)]

    @router.post("/account/profile")
    def update_profile(request: Request, form: ProfilePost, ...) -> Response:
        try:
            data = form.valid()
            service.update_profile(session, user=user, name=data.name, language=data.language)
        except FormError as exc:
            return invalid(exc, account_page(request, ..., **form.shown(exc)))
        return RedirectResponse(...)

`form.valid()` raises FormError with the form's own problems, and the service raises it for
the rules only it can check (an address already in use); either way `invalid` answers with the
page again, what she typed in it (never a password), the messages at their inputs and status
422 (or the error's own, e.g. 409 or 429 with Retry-After). FastAPI's own form validation
would answer with an error page instead, losing what she typed.

A field that is a list reads every value of an input sent more than once (a group of
checkboxes); `Form.tidy` names inputs shown again as the form read them (a page to go on to,
made safe); `shown(exc, prefix=…)` names the inputs of one form among several on a page.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, TypedDict, TypeVar, get_origin

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError

from api.errors import AppError, FormError
from api.i18n import gettext as _


class Form(BaseModel):
    """One HTML form. An input the request lacks (an unticked box) takes its field's default."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    # Inputs whose text is never shown again: passwords and one-time codes.
    secret: ClassVar[frozenset[str]] = frozenset()
    # Inputs shown again as the form reads them rather than as typed: a page to go on to, once
    # made a local path, must not travel on in the page as she (or a link) sent it.
    tidy: ClassVar[frozenset[str]] = frozenset()


# Any pydantic model can be a form: a service's own input model (all text, checked by the
# service) needs no copy here; `Form` adds only the settings an HTML form wants.
F = TypeVar("F", bound=BaseModel)


def _ticked(value: object) -> bool:
    return value not in ("", None, False)


# A checkbox: ticked when the browser sends it at all (with any value), not ticked otherwise.
Checkbox = Annotated[bool, BeforeValidator(_ticked)]


def problem(message: str) -> PydanticCustomError:
    """A broken rule with its message (already in her language), to raise in a validator."""
    return PydanticCustomError("kern", "{message}", {"message": message})


# What one input sent: its text, or each of its values for an input that may be sent more than
# once (a group of checkboxes, several time fields of one name), when its field is a list.
Typed = str | list[str]


class Shown(TypedDict):
    """What a page needs to show a refused form again."""

    values: dict[str, Typed]
    errors: dict[str, str]


@dataclass(frozen=True)
class Posted(Generic[F]):
    """A submitted form: what she typed, by input name, and the model once it passed its checks."""

    typed: dict[str, Typed]
    form: F | None
    errors: dict[str, str]
    secret: frozenset[str]
    # The form's `tidy` inputs as it read them, by input name.
    read: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, Typed]:
        """What the page shows again in its inputs: everything she typed but secrets."""
        return {
            name: self.read.get(name, text)
            for name, text in self.typed.items()
            if name not in self.secret
        }

    def valid(self) -> F:
        """The parsed form; FormError with a message per input when a check failed."""
        if self.form is None:
            raise FormError(self.errors)
        return self.form

    def shown(self, exc: FormError | None = None, *, prefix: str = "") -> Shown:
        """`values` and `errors` for the page's context: what she typed and what is wrong."""
        # On a page with several forms that share input names, `prefix` names this one's
        # (`title` → `module-3-title`), as its template does.
        errors = exc.fields if exc else self.errors
        return {
            "values": {prefix + name: text for name, text in self.values.items()},
            "errors": {prefix + name: text for name, text in errors.items()},
        }


def input_names(model: type[BaseModel]) -> dict[str, str]:
    """Field name → the input name the page's form uses (the field's alias, if it has one)."""
    return {name: info.alias or name for name, info in model.model_fields.items()}


def parse(
    model: type[F], typed: Mapping[str, Typed], *, sent: Collection[str] | None = None
) -> Posted[F]:
    """Parse and check the inputs (by input name) with `model`; an input not `sent` (default:
    all were) takes its field's default."""
    secret, read = _names(model, "secret"), _read(model, typed)
    data = {name: text for name, text in typed.items() if sent is None or name in sent}
    try:
        form = model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            # Validated by input name, so an error's place is the input's name.
            where = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(where, _message(error))
        return Posted(dict(typed), None, errors, secret, read)
    return Posted(dict(typed), form, {}, secret, read)


def _names(model: type[BaseModel], kind: str) -> frozenset[str]:
    names: frozenset[str] = getattr(model, kind, frozenset())
    return names


@cache
def _reader(model: type[BaseModel], field_name: str) -> TypeAdapter[Any]:
    return TypeAdapter(model.model_fields[field_name].rebuild_annotation())


def _read(model: type[BaseModel], typed: Mapping[str, Typed]) -> dict[str, str]:
    """The `tidy` inputs as their fields read them (one that cannot be read: empty)."""
    # Each is read on its own, so that it is shown tidied even when another input is wrong.
    tidy = _names(model, "tidy")
    read: dict[str, str] = {}
    for field_name, name in input_names(model).items():
        if name in tidy and name in typed:
            try:
                read[name] = str(_reader(model, field_name).validate_python(typed[name]))
            except ValidationError:
                read[name] = ""
    return read


def _many(info: FieldInfo) -> bool:
    """Whether the input may be sent more than once (the field is a list)."""
    return get_origin(info.annotation) is list


def posted(model: type[F]) -> Any:
    """The FastAPI dependency that reads the request's form as a `Posted[model]`."""

    async def read(request: Request) -> Posted[F]:
        # The CSRF check parsed the form already; Starlette keeps it on the request.
        data = await request.form()
        typed: dict[str, Typed] = {}
        # What a missing input shows again is empty, as a browser sends an empty text input.
        for field_name, name in input_names(model).items():
            if _many(model.model_fields[field_name]):
                typed[name] = [value for value in data.getlist(name) if isinstance(value, str)]
                continue
            value = data.get(name)
            typed[name] = value if isinstance(value, str) else ""
        return parse(model, typed, sent=set(data.keys()))

    return Depends(read)


def invalid(exc: AppError, page: HTMLResponse) -> HTMLResponse:
    """The page again after a refused form: the error's status (422; 409 for a conflict, 429
    for too many attempts) and its headers (Retry-After)."""
    page.status_code = exc.status_code
    page.headers.update(exc.headers)
    return page


def _number(context: dict[str, Any], *keys: str) -> object:
    return next(context[key] for key in keys if key in context)


# Pydantic's error types, in her words; the messages are looked up when the error is shown.
_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "kern": lambda context: str(context["message"]),
    "missing": lambda _context: _("Fill this in."),
    "string_too_short": lambda _context: _("Fill this in."),
    "string_too_long": lambda context: _("Use at most %(n)s characters.", n=context["max_length"]),
    "int_parsing": lambda _context: _("Fill in a whole number, e.g. 5."),
    "int_from_float": lambda _context: _("Fill in a whole number, e.g. 5."),
    "greater_than_equal": lambda context: _(
        "Use a number of at least %(n)s.", n=_number(context, "ge", "gt")
    ),
    "less_than_equal": lambda context: _(
        "Use a number of at most %(n)s.", n=_number(context, "le", "lt")
    ),
    "literal_error": lambda _context: _("Choose one of the options in the list."),
    "enum": lambda _context: _("Choose one of the options in the list."),
}


def _message(error: ErrorDetails) -> str:
    """A parse or check error in her words."""
    say = _MESSAGES.get(error["type"])
    if say is None:
        return _("We cannot use what is filled in here. Check it and try again.")
    return say(dict(error.get("ctx") or {}))
