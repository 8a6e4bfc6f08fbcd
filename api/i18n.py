"""Languages: gettext catalogs, the request's locale, and Dutch-first formatting."""

import re
from collections.abc import MutableMapping
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency, format_decimal, get_decimal_symbol
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup

LOCALE_DIR = Path(__file__).resolve().parent.parent / "web" / "locale"
DEFAULT_LOCALE = "nl"
LOCALES = ("nl", "en", "nb")
# Each language in its own name, as the language switch offers them.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "nb": "Norsk"}
# The Babel locale whose formats each language uses (dates, money, numbers).
BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB", "nb": "nb_NO"}
# Browsers may ask for Norwegian as `no` (Norwegian), `nn` (nynorsk) or `nb`; the interface is in
# bokmål, which a nynorsk reader reads as well.
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb"}
LOCALE_COOKIE = "kern_lang"
TIMEZONE = ZoneInfo("Europe/Amsterdam")

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for a locale (cached per process)."""
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(message: str, **variables: object) -> str:
    """Translate into the current locale; `%(name)s` placeholders are filled from keywords."""
    text = translations(current_locale.get()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """Translate a message whose form depends on a number."""
    text = translations(current_locale.get()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def translate(message: str) -> str:
    """Only translate; the caller fills the placeholders (Jinja's newstyle gettext does)."""
    return translations(current_locale.get()).ugettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """Only pick and translate the form for `n`; the caller fills the placeholders."""
    return translations(current_locale.get()).ungettext(singular, plural, n)


def _accepted_languages(header: str) -> list[str]:
    """Parse Accept-Language into tags, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((-quality, index, tag.strip()))
    return [_alias(tag) for _, _, tag in sorted(weighted)]


def _alias(tag: str) -> str:
    """`no-NO` and `nn` as `nb`: the language Kern has for them."""
    primary = tag.split("-", 1)[0].lower()
    return LANGUAGE_ALIASES.get(primary, tag)


def pick_locale(*, choice: str | None, accept_language: str | None) -> str:
    """The user's own choice first, then the browser's preference, then Dutch."""
    if choice in LOCALES:
        return choice
    if not accept_language:
        return DEFAULT_LOCALE
    if len(accept_language) <= _KEPT_HEADER_LENGTH:
        return _browser_locale(accept_language)
    return _browser_locale.__wrapped__(accept_language)


# A browser sends the same Accept-Language with every request, and most browsers one of a few:
# the language each asks for is worked out once per process (the header parsed and negotiated
# with Babel were 1.4 % of the catalog's instructions). Only ordinary lengths are kept, so odd
# headers cannot fill the memory.
_KEPT_HEADER_LENGTH = 200


@lru_cache(maxsize=256)
def _browser_locale(accept_language: str) -> str:
    found = negotiate_locale(_accepted_languages(accept_language), LOCALES, sep="-")
    return str(found) if found else DEFAULT_LOCALE


def _babel_locale() -> Locale:
    return _babel_locale_for(current_locale.get())


@cache
def _babel_locale_for(code: str) -> Locale:
    return Locale.parse(BABEL_LOCALES.get(code, BABEL_LOCALES[DEFAULT_LOCALE]))


# Norwegian writes a day of the month with a full stop ("21. november", "mandag 23. november");
# the patterns in the code are written without it, so it is added here for `nb`.
_DAY_FIELD = re.compile(r"(?<![d.])d(?![d.])")


@lru_cache(maxsize=64)
def _pattern_for(pattern: str, code: str) -> str:
    if code == "nb" and pattern not in ("short", "medium", "long", "full"):
        return _DAY_FIELD.sub("d.", pattern)
    return pattern


def format_price(cents: int, currency: str = "EUR") -> str:
    """`€ 49,00` in Dutch, `€49.00` in English, `49,00 €` in Norwegian."""
    return _format_price_in(cents, currency, current_locale.get())


# Babel is as slow per price as per date, and a practice sells a few prices over and over: each
# (amount, currency, language) is worked out once per process (docs/performance.md#dates).
@lru_cache(maxsize=1024)
def _format_price_in(cents: int, currency: str, code: str) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=_babel_locale_for(code))


def decimal_symbol() -> str:
    """The decimal separator of the request's language: `,` in Dutch and Norwegian."""
    return get_decimal_symbol(_babel_locale())


def format_number(value: Decimal | float | int) -> str:
    """A score or measure as she writes it: 7, 3,5 in Dutch (3.5 in English), no trailing zeros."""
    return format_decimal(value, format="#,##0.#", locale=_babel_locale())


def format_day(value: date | datetime) -> str:
    """`21 november 2026`, in Amsterdam time for moments."""
    if isinstance(value, datetime):
        value = value.astimezone(TIMEZONE).date() if value.tzinfo else value.date()
    return _format_day_as(value, "long", current_locale.get())


def format_day_as(day: date, pattern: str) -> str:
    """The day in a CLDR pattern (e.g. "EEE" for "ma"), in the request's language."""
    return _format_day_as(day, pattern, current_locale.get())


# Babel is slow per date, and pages show the same few days over and over (today, this week,
# when she enrolled): each (day, pattern, language) is worked out once per process
# (docs/performance.md#dates). `pattern` may also be one of Babel's named formats ("long").
@lru_cache(maxsize=4096)
def _format_day_as(day: date, pattern: str, code: str) -> str:
    return babel_format_date(day, _pattern_for(pattern, code), locale=_babel_locale_for(code))


def format_moment(value: datetime) -> str:
    """Date and time in Amsterdam, e.g. `21 november 2026 14:05`."""
    code = current_locale.get()
    pattern = _pattern_for("d MMMM y HH:mm", code)
    return babel_format_datetime(
        value, format=pattern, tzinfo=TIMEZONE, locale=_babel_locale_for(code)
    )


def html_time(value: date | datetime) -> str:
    """A valid HTML `datetime` attribute: `2026-11-21` for a day, `2026-11-21T13:05:00Z` for a
    moment (seconds, in UTC; a moment without a zone is stored as UTC)."""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def N_(message: str) -> str:  # noqa: N802 (the conventional gettext marker name)
    """Mark a text for extraction where it is translated later, at use."""
    return message


# Both take the evaluation context, not the template's context as Jinja's own do: Jinja makes a
# copy of the context for every call of a function that takes it from inside a block or loop
# with variables of its own (`{% set %}`), a dozen dict copies for one text; they only need to
# know whether the template escapes (docs/performance.md#texts-in-templates).
@pass_eval_context
def _jinja_gettext(eval_ctx: EvalContext, message: str, /, **variables: object) -> str:
    """Newstyle gettext (escaped placeholders), skipping `%` when there is nothing to fill."""
    text = translate(message)
    # Texts come from our own catalogs, as with Jinja's gettext; placeholders are escaped by `%`.
    result = Markup(text) if eval_ctx.autoescape else text  # noqa: S704
    if variables or "%" in text:
        return result % variables
    return result


@pass_eval_context
def _jinja_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, count: int, /, **variables: object
) -> str:
    """Newstyle ngettext, as Jinja's: the form for `count`, placeholders (`num` is the count
    unless given) escaped."""
    text = translate_plural(singular, plural, count)
    result = Markup(text) if eval_ctx.autoescape else text  # noqa: S704
    return result % {"num": count, **variables}


class _Environment(Environment):
    """Jinja's environment with each template's globals as a plain dict, copied from the
    environment's when the template is loaded (Jinja chains the two maps instead).

    Every `{% from ... import ... %}` compares the importing page's globals with the imported
    template's, on every render; over chained maps that comparison is a Python loop, over dicts
    a set operation (docs/performance.md#template-globals). Jinja asks not to change globals
    after a template is loaded, and Kern sets them all when the environment is made."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


def jinja_environment(directory: Path) -> Environment:
    """Templates under `directory` with Kern's gettext and formatting: the pages' and the mails'
    environments are both made here, so a text reads the same on a page and in a mail."""
    env = _Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Every template kept in a plain dict: there are only Kern's own (some 150 files). The
        # default, a least-recently-used cache, takes a lock and moves the name to the end of
        # a list of them all on each lookup, and a page looks up each template it imports
        # every time it renders (docs/performance.md#template-lookups).
        cache_size=-1,
    )
    # The callables read the locale from a context variable, so one shared environment serves
    # every request in its own language without re-installing translations per render.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        # Jinja fills the placeholders itself (with `num` for plurals), so it gets the bare
        # translation functions.
        translate,
        translate_plural,
        newstyle=True,
    )
    # Jinja's own newstyle gettext formats every text with `%`, through Markup's escaping, even
    # when there is nothing to fill in; most texts on a page have no placeholder.
    env.globals["gettext"] = _jinja_gettext
    # `_` straight to it: the extension's `_` looks `gettext` up in the template's context and
    # calls it through the context on every use, two calls more per text for the same result
    # (docs/performance.md#texts-in-templates).
    env.globals["_"] = _jinja_gettext
    env.globals["ngettext"] = _jinja_ngettext
    env.filters["html_time"] = html_time
    env.globals.update(
        format_price=format_price,
        format_day=format_day,
        format_moment=format_moment,
        language_names=LANGUAGE_NAMES,
        babel_locales=BABEL_LOCALES,
        interface_language=current_locale.get,
    )
    return env
