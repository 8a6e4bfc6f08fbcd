"""The guided player's settings and texts (js/player.js reads them from a JSON block).

The texts are the same for every page in one language, so they are translated and encoded once
per language and process; only the addresses, the CSRF token and the user id change per page.
The `%(name)s` placeholders stay in: the script fills them in. Countable texts come in pairs
("...One" for 1, "...Other" otherwise), which covers Dutch, English and Norwegian.
"""

from functools import lru_cache

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from api import i18n
from api.i18n import N_

TEXTS = {
    "start": N_("Start"),
    "pause": N_("Pause"),
    "resume": N_("Resume"),
    "stop": N_("Stop"),
    "sound": N_("Sound"),
    "vibrate": N_("Vibration"),
    "panelLabel": N_("Guided practice: %(title)s"),
    "phaseSqueeze": N_("Tighten"),
    "phaseHold": N_("Hold"),
    "phaseRelax": N_("Relax"),
    "phaseRest": N_("Rest"),
    "phaseChange": N_("Change sides"),
    "phaseInhale": N_("Breathe in"),
    "phaseExhale": N_("Breathe out"),
    "phaseReady": N_("Get ready"),
    "rep": N_("Repetition %(rep)s of %(reps)s"),
    "set": N_("Set %(set)s of %(sets)s"),
    "nextSet": N_("Next: set %(set)s of %(sets)s"),
    "breath": N_("Breath %(cycle)s of %(cycles)s"),
    "sideLeft": N_("Left side"),
    "sideRight": N_("Right side"),
    "timeLeft": N_("%(time)s to go"),
    "countOne": N_("%(phase)s, 1 count"),
    "countOther": N_("%(phase)s, %(num)s counts"),
    "secondsOne": N_("%(phase)s, 1 second"),
    "secondsOther": N_("%(phase)s, %(num)s seconds"),
    "paused": N_("Paused"),
    "done": N_("Done!"),
    "stopped": N_("Stopped before the end"),
    "tooShort": N_("Not saved: too short"),
    "tooShortHint": N_(
        "You stopped before the first repetition or breath was finished, so there is nothing "
        "to keep. Start again whenever you like."
    ),
    "summaryReps": N_("Repetitions: %(done)s of %(total)s"),
    "summarySets": N_("Sets: %(done)s of %(total)s"),
    "summaryBreaths": N_("Breaths: %(done)s of %(total)s"),
    "summaryTime": N_("Time: %(time)s"),
    "effortLegend": N_("How hard did it feel? (optional)"),
    "effortHint": N_("1 = very light … 5 = hard"),
    "noteLabel": N_("Note (optional)"),
    "noteHint": N_(
        "For yourself: how it went, what you felt. Only you and your therapist can read it."
    ),
    "save": N_("Save in my practice log"),
    "discard": N_("Don't save"),
    "close": N_("Close"),
    "loginToSave": N_("Log in to keep your practice in your log."),
    "logIn": N_("Log in"),
    "saved": N_("Saved in your practice log."),
    "savedEarlier": N_("Your earlier practice is now saved in your practice log."),
    "viewLog": N_("See your practice log"),
    "notSent": N_(
        "Not sent yet: your practice is safe on this device and will be sent by itself as soon "
        "as there is a connection again."
    ),
    "loggedOut": N_(
        "You are logged out, so your practice is not saved yet. It waits on this device until "
        "you log in again."
    ),
    "rejected": N_("Your practice could not be saved."),
    "waitingOne": N_("1 practice is waiting to be sent."),
    "waitingOther": N_("%(num)s practices are waiting to be sent."),
    # Today's routine (/today/routine): her exercises one after another.
    "routineOf": N_("Exercise %(num)s of %(total)s"),
    "routineFull": N_("Full screen"),
    "routineBack": N_("Previous"),
    "routineSkip": N_("Skip"),
    "routineAllDone": N_("Well done: all of today's exercises are done"),
    "routineEnd": N_("The end of today's exercises"),
    "routineKeptOne": N_("1 exercise goes into your practice log."),
    "routineKeptOther": N_("%(num)s exercises go into your practice log."),
    "routineNothingKept": N_("Nothing was kept in your practice log."),
    "routineDone": N_("Done"),
    "routinePartly": N_("Partly done: %(done)s of %(total)s, kept"),
    "routineSkipped": N_("Skipped, not kept"),
    "routineNotDone": N_("Not done"),
    "routineBackToday": N_("Back to Today"),
    # Asking her consent to keeping health data before the first log is sent (api/consent).
    "consentSave": N_("Save my choice"),
    "consentLater": N_("Not now"),
    "consentTick": N_("Tick the box if you agree. Without it, nothing is kept."),
    "consentPage": N_("Read this on a page of its own"),
    "consentThanks": N_("Thank you. Your practice is being saved."),
    "consentDeclined": N_(
        "Nothing has been sent. Your practice stays on this device until you decide; you can "
        "keep using the player."
    ),
    "consentDecide": N_("Decide now"),
    "consentFailed": N_("Your choice could not be saved. Please try again."),
    "consentOffline": N_(
        "The question cannot be shown without a connection. Your practice stays on this device."
    ),
    "consentWaitingOne": N_(
        "1 practice waits on this device until you decide whether Kern may keep it."
    ),
    "consentWaitingOther": N_(
        "%(num)s practices wait on this device until you decide whether Kern may keep them."
    ),
}

CONSENT_API = "/api/v1/me/consents/health-data"
CONSENT_PAGE = "/account/health-consent"


@lru_cache(maxsize=len(i18n.LOCALES))
def _texts_json(locale: str) -> str:
    translations = i18n.translations(locale)
    return str(
        htmlsafe_json_dumps({key: translations.ugettext(text) for key, text in TEXTS.items()})
    )


def player_config(
    practice_url: str,
    log_url: str,
    csrf_token: str,
    user_id: int | None,
    ask_consent: bool = False,
) -> Markup:
    """The JSON for `<script type="application/json" id="player-config">`, safe inside HTML.
    With `ask_consent` the player asks her consent before it sends a log; the question's text
    comes from the consent API when it is needed, so pages carry only its address."""
    settings: dict[str, object] = {
        "practiceUrl": practice_url,
        "logUrl": log_url,
        "csrfToken": csrf_token,
        "userId": user_id,
    }
    if user_id is not None:
        settings["consent"] = {"url": CONSENT_API, "page": CONSENT_PAGE, "needed": ask_consent}
    config = htmlsafe_json_dumps(settings)
    # Both parts are HTML-safe JSON; the texts are spliced in as the object's last member.
    texts = _texts_json(i18n.current_locale.get())
    return Markup(f'{config[:-1]}, "texts": {texts}}}')  # noqa: S704 (escaped JSON, see above)
