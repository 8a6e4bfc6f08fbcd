"""A login's browser and system in words she recognises ("Chrome op Android"), from the
user-agent string it was started with."""

from functools import lru_cache

from ua_parser import parse

from api.i18n import gettext as _

# The parser names mobile builds separately ("Chrome Mobile", "Mobile Safari"); she knows them
# by the browser's own name.
BROWSERS = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Samsung Internet": "Samsung Internet",
}
SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
# On iOS the device says more than the system's name: an iPhone or an iPad.
APPLE_DEVICES = ("iPhone", "iPad", "iPod")


@lru_cache(maxsize=256)
def _names(user_agent: str) -> tuple[str, str] | None:
    """(browser, system) as the parser recognises them, or None."""
    found = parse(user_agent[:500])
    if found.user_agent is None or found.user_agent.family == "Other":
        return None
    browser = BROWSERS.get(found.user_agent.family, found.user_agent.family)
    system = found.os.family if found.os is not None and found.os.family != "Other" else ""
    device = found.device.family if found.device is not None else ""
    if system == "iOS" and device in APPLE_DEVICES:
        system = device
    return browser, SYSTEMS.get(system, system)


def describe(user_agent: str) -> str:
    """Her browser and system in words, e.g. "Chrome op Android"; "Onbekende browser" if unknown."""
    names = _names(user_agent.strip()) if user_agent.strip() else None
    if names is None:
        return _("Unknown browser")
    browser, system = names
    if not system:
        return browser
    return _("%(browser)s on %(system)s", browser=browser, system=system)
