"""Sanne, a visitor without an account, plans an intake on her phone: she picks a time the
therapist opened in the studio, gets a confirmation with the appointment as an .ics, moves it
with the link in that mail, and the time she left can be booked again."""

from datetime import timedelta
from email.message import EmailMessage

from icalendar import Calendar, Event
from playwright.sync_api import Browser, Page, expect

from api.clock import local_day
from api.db import utcnow
from tests.e2e.conftest import fits_the_phone, nl, screenshot, sign_in_demo_instructor
from tests.smtp import SmtpServer, links_in

EMAIL = "sanne.intake@example.nl"
SHOTS = "intake"


def _event(mail: EmailMessage) -> Event:
    [invite] = [
        part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    calendar = Calendar.from_ical(invite.get_content())
    [event] = calendar.walk("VEVENT")
    assert isinstance(event, Event)
    return event


def test_a_visitor_books_an_intake_moves_it_and_the_old_time_is_free_again(
    page: Page,
    browser: Browser,
    live_server: str,
    mail_server: SmtpServer,
    demo_instructor_secret: str,
) -> None:
    # The therapist opens tomorrow morning for intakes, with her video-call link (laptop).
    laptop = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    studio = laptop.new_page()
    sign_in_demo_instructor(studio, live_server, demo_instructor_secret)
    studio.goto(live_server + "/studio/intake")
    settings = studio.locator('form[action="/studio/intake"]')
    settings.get_by_label(nl("Your video-call link (optional)")).fill("https://meet.example/ingrid")
    settings.get_by_role("button", name=nl("Save")).click()
    expect(studio.get_by_text(nl("Saved."))).to_be_visible()
    tomorrow = local_day(utcnow()) + timedelta(days=1)
    extra = studio.locator('form[action="/studio/intake/exceptions"]')
    extra.get_by_label(nl("Date")).fill(tomorrow.isoformat())
    extra.get_by_label(nl("What")).select_option("extra")
    extra.get_by_label(nl("From")).fill("09:00")
    extra.get_by_label(nl("Until")).fill("11:00")
    extra.get_by_role("button", name=nl("Add")).click()
    expect(studio.get_by_text("09:00–11:00")).to_be_visible()
    booking_page = studio.locator('.lead a[href*="/intake/"]').get_attribute("href")
    assert booking_page is not None
    mail_server.clear()

    # Sanne books the first time of tomorrow on her phone.
    page.goto(booking_page)
    expect(page.get_by_role("heading", name=nl("Plan an intake"))).to_be_visible()
    fits_the_phone(page)
    times = page.get_by_role("group", name=nl("Choose a time"))
    first = times.get_by_role("radio").first
    first_value = first.get_attribute("value")
    first.check()
    page.get_by_label(nl("Your name")).fill("Sanne")
    page.get_by_label(nl("Email address")).fill(EMAIL)
    screenshot(page, f"{SHOTS}-booking-390")
    page.get_by_role("button", name=nl("Book this time")).click()
    expect(
        page.get_by_text(
            nl("Your intake is booked. The confirmation is on its way to %(email)s.")
            % {"email": EMAIL}
        )
    ).to_be_visible()

    # Her confirmation holds the appointment as an .ics, at the time she chose.
    mail = mail_server.wait_for_mail_to(EMAIL)
    event = _event(mail)
    assert event.decoded("dtstart").strftime("%Y-%m-%dT%H:%MZ") == first_value
    assert event["location"] == "https://meet.example/ingrid"
    [link] = [url for url in links_in(mail) if "/intake/booking/" in url]

    # She moves it with the link in the mail, in a fresh browser.
    mail_server.clear()
    page.goto(link)
    new_times = page.get_by_role("group", name=nl("Choose a new time"))
    second = new_times.get_by_role("radio").first
    second_value = second.get_attribute("value")
    assert second_value != first_value
    second.check()
    page.get_by_role("button", name=nl("Move my intake")).click()
    expect(
        page.get_by_text(nl("Your intake has moved. A new confirmation is on its way."))
    ).to_be_visible()
    moved = _event(mail_server.wait_for_mail_to(EMAIL))
    assert moved.decoded("dtstart").strftime("%Y-%m-%dT%H:%MZ") == second_value
    assert moved["uid"] == event["uid"]

    # The time she left can be booked again; the one she took cannot.
    page.goto(booking_page)
    expect(page.locator(f'input[name="slot"][value="{first_value}"]')).to_have_count(1)
    expect(page.locator(f'input[name="slot"][value="{second_value}"]')).to_have_count(0)
    studio.reload()
    expect(studio.get_by_role("cell", name="Sanne", exact=True)).to_be_visible()
    screenshot(studio, f"{SHOTS}-studio-1280")
    laptop.close()
