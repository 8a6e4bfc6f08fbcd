"""Sanne reads an article on her phone, leaves a comment (with a bit of script in it), and the
therapist approves it in the studio; once approved it appears, as text, and the article's call
to action takes Sanne to the free self-test."""

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import fits_the_phone, nl, screenshot, sign_in_demo_instructor

SLUG = "bekkenbodem-en-lage-rugpijn"  # a sample article in articles/, comments open
COMMENT = "Fijn uitgelegd! <script>document.title='gehackt'</script>"


def test_a_comment_waits_for_approval_and_the_article_leads_to_the_self_test(
    page: Page, browser: Browser, live_server: str, demo_instructor_secret: str
) -> None:
    page.goto(live_server + "/artikelen")
    page.get_by_role("link", name="Bekkenbodem en lage rugpijn", exact=False).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bekkenbodem en lage rugpijn")
    fits_the_phone(page)

    page.get_by_label(nl("Your name")).fill("Sanne")
    page.get_by_label(nl("Your comment")).fill(COMMENT)
    page.get_by_role("button", name=nl("Send comment")).click()
    held = nl("Thank you. Your comment appears here once the author has read it.")
    expect(page.get_by_text(held)).to_be_visible()
    expect(page.locator(".comment-list")).to_have_count(0)

    laptop = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    studio = laptop.new_page()
    sign_in_demo_instructor(studio, live_server, demo_instructor_secret)
    studio.goto(f"{live_server}/studio/articles/{SLUG}#comments")
    comment = studio.locator("#comments .comment").filter(has_text="Fijn uitgelegd!")
    comment.get_by_role("button", name=nl("Approve")).click()
    expect(studio.get_by_text(nl("The comment is now shown under the article."))).to_be_visible()
    laptop.close()

    page.goto(f"{live_server}/artikelen/{SLUG}")
    expect(page.locator(".comment-list")).to_contain_text(COMMENT)
    assert page.title() != "gehackt"
    screenshot(page, "article-comment-approved")

    page.get_by_role("link", name=nl("Take the free self-test")).click()
    expect(page).to_have_url(f"{live_server}/test/pijntest")
