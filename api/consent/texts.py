"""The text a learner agrees to before Kern keeps her health data, and its version.

The player, the consent page and the API all show this one text, so what she read is what the
recorded version names. Written in English inside N_() and translated like every other text.
"""

from dataclasses import dataclass
from functools import lru_cache

from api.i18n import N_, current_locale
from api.i18n import gettext as _

# Change the version whenever the meaning of the text changes (what is kept, why, who sees it,
# for how long): consent to an older version no longer counts, so everyone is asked again. A
# fixed typo or a better word keeps the version.
HEALTH_DATA_VERSION = "2026-12-05.3"

_TITLE = N_("May Kern keep what you record about your body?")
_INTRO = N_(
    "Your practice, your answers to check-ins, your journal and your questions to your therapist "
    "say something about your body. That makes them health data, and Kern only keeps them with "
    "your explicit permission."
)
_POINTS = (
    (
        N_("What we keep"),
        N_(
            "Which exercises you did, when and for how long, and, if you fill them in, how hard "
            "it felt and your note; your answers to a course's check-ins and the self-test "
            "results you choose to keep, with the scores they come to; your journal entries; "
            "and the messages you and your therapist write to each other."
        ),
    ),
    (
        N_("Why"),
        N_(
            "So that you can see your progress, your streak and whether the programme helps, and "
            "your therapist can guide you."
        ),
    ),
    (
        N_("Who sees it"),
        N_(
            "You, the therapist of your course, and the practice's administrator; your journal "
            "only you, unless you share an entry with your therapist. Nobody else: no "
            "advertisers, no other learners."
        ),
    ),
    (
        N_("How long"),
        N_(
            "Until you delete it, or your account. You can withdraw your permission at any time "
            "on your account page; from then on nothing new is kept, and you can delete what is "
            "there."
        ),
    ),
)
_WITHOUT = N_(
    "Without your permission you can still follow every lesson, use the guided player and take a "
    "self-test; nothing of it is then kept."
)
_AGREE = N_(
    "I agree that Kern keeps my practice log, my check-in answers, the self-test results I keep, "
    "my journal and my messages, with the health data described above."
)


@dataclass(frozen=True)
class ConsentText:
    """The consent question in the current language."""

    version: str
    title: str
    intro: str
    points: tuple[tuple[str, str], ...]
    without: str
    agree: str


def health_data_text() -> ConsentText:
    """The health-data consent text, translated into the current locale."""
    return _health_data_text(current_locale.get())


@lru_cache(maxsize=8)
def _health_data_text(locale: str) -> ConsentText:
    # Once per language and process: a form that may ask her consent in place carries it on
    # every lesson page and every "Vandaag" (docs/performance.md#forms-in-kept-parts).
    return ConsentText(
        version=HEALTH_DATA_VERSION,
        title=_(_TITLE),
        intro=_(_INTRO),
        points=tuple((_(label), _(text)) for label, text in _POINTS),
        without=_(_WITHOUT),
        agree=_(_AGREE),
    )
