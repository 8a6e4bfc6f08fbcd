"""Inge, a therapist who has never heard of Markdown, writes a lesson on her laptop with the
formatting bar, by keyboard, and pastes a passage she wrote in Word. What she saved is what a
course package carries: exported and imported again (what `kern export` and `kern import` do),
the lesson comes back unchanged.

The HTML-to-Markdown conversion is checked here too, in Chromium where it runs, on clipboards
as Word and Google Docs fill them.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, create_engine, select

from api.accounts.models import User
from api.catalog import packages
from api.catalog.models import Course, Lesson, Module
from api.db import make_engine
from api.media import imports as media_imports
from api.media.files import MB
from api.media.storage import LocalStorage
from api.seed import DEMO_INSTRUCTOR_EMAIL
from api.studio import courses as studio_courses
from tests.e2e.conftest import fits_the_phone, nl, screenshot, sign_in_demo_instructor
from tests.factories import make_course

SLUG = "schrijven-zonder-markdown"

# What Word puts on the clipboard (shortened): its styles, Office's own <o:p> elements, spans
# on every run of text, an empty paragraph, a list as paragraphs with their bullets as text
# between conditional comments, and a link.
WORD_CLIPBOARD = """<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"><head><meta charset="utf-8">
<style><!-- p.MsoNormal {mso-style-parent:""; margin:0cm; font-size:11.0pt;} --></style></head>
<body lang=NL style='tab-interval:35.4pt'><!--StartFragment-->
<h1 style='mso-margin-top-alt:auto'><span style='mso-fareast-font-family:"Times New Roman"'>Ademen
met je bekkenbodem<o:p></o:p></span></h1>
<p class=MsoNormal><span style='font-size:12.0pt;mso-bidi-font-family:Calibri'>Leg je handen
<b>op je buik</b> en adem <i>rustig</i> in.<o:p></o:p></span></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'
><![if !supportLists]><span style='font-family:Symbol'><span style='mso-list:Ignore'>·<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>Adem in
door je neus<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'
><![if !supportLists]><span style='font-family:Symbol'><span style='mso-list:Ignore'>·<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>Adem uit
door je mond<o:p></o:p></p>
<p class=MsoNormal>Meer lezen: <a href="https://www.thuisarts.nl/bekkenbodem">Thuisarts</a><span
style='mso-spacerun:yes'>&nbsp;</span><!--[if gte mso 9]><xml><w:WordDocument></w:WordDocument>
</xml><![endif]--></p>
<!--EndFragment--></body></html>"""

WORD_MARKDOWN = """## Ademen met je bekkenbodem

Leg je handen **op je buik** en adem *rustig* in.

- Adem in door je neus
- Adem uit door je mond

Meer lezen: [Thuisarts](https://www.thuisarts.nl/bekkenbodem)"""

CONVERSIONS = [
    # Google Docs: everything in <b style="font-weight:normal">, emphasis as span styles.
    (
        '<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-1">'
        '<h2 dir="ltr"><span style="font-size:16pt;font-weight:400">Week 1</span></h2>'
        '<p dir="ltr"><span style="font-weight:700">Vet</span><span style="font-weight:400">'
        ' en </span><span style="font-style:italic">schuin</span></p><ul><li dir="ltr">'
        '<p dir="ltr"><span>een</span></p></li><li><p><span>twee</span></p></li></ul><br></b>',
        "### Week 1\n\n**Vet** en *schuin*\n\n- een\n- twee",
    ),
    # Word, newer: a numbered list with a bulleted level inside, markers in mso-list:Ignore.
    (
        "<p class=MsoListParagraphCxSpFirst style='mso-list:l0 level1 lfo1'><span"
        " style='mso-list:Ignore'>1.<span>&nbsp;</span></span>Zitten</p>"
        "<p class=MsoListParagraphCxSpMiddle style='mso-list:l0 level2 lfo1'><span"
        " style='mso-list:Ignore'>o<span>&nbsp;</span></span>Rechtop</p>"
        "<p class=MsoListParagraphCxSpLast style='mso-list:l0 level1 lfo1'><span"
        " style='mso-list:Ignore'>2.<span>&nbsp;</span></span>Staan</p>",
        "1. Zitten\n   - Rechtop\n2. Staan",
    ),
    # Nothing that could run or that points at her own disk survives.
    (
        '<p>Klik <a href="javascript:alert(1)">hier</a><img src="file:///C:/x.png">'
        '<img src="data:image/png;base64,AAAA"><script>alert(1)</script></p>',
        "Klik hier",
    ),
    ('<meta charset="utf-8"><span style="color:rgb(0,0,0)">Gewoon tekst</span>', "Gewoon tekst"),
]


@pytest.fixture
def draft_course(server_env: dict[str, str], live_server: str) -> Iterator[int]:
    """A draft course of the demo instructor with one empty module (its id); gone afterwards."""
    # Kern's engine, as the server's: on SQLite it switches foreign keys on, so deleting the
    # course takes its modules and lessons with it. Left behind, they would belong to the next
    # course, which SQLite gives the freed id (another journey's `.one()` then finds two).
    engine = make_engine(server_env["DATABASE_URL"], pool_size=1)
    with Session(engine) as session:
        owner = session.exec(select(User).where(User.email == DEMO_INSTRUCTOR_EMAIL)).one()
        course = make_course(
            session, instructor=owner, slug=SLUG, status="draft", modules=1, lessons_per_module=0
        )
        module = session.exec(select(Module).where(Module.course_id == course.id)).one()
        session.commit()
        module_id = module.id
    assert module_id is not None
    yield module_id
    # A session of its own: one kept open through the journey would write from a stale snapshot.
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == SLUG)).one()
        studio_courses.delete_course(session, course=course, confirmed=True)
        session.commit()
    engine.dispose()


def export(env: dict[str, str], target: Path) -> dict[str, bytes]:
    """`kern export`, in this process on the live server's database: the package's files
    (pictures and covers among them, so as bytes)."""
    engine = create_engine(env["DATABASE_URL"])
    with Session(engine) as session:
        folder = packages.export_course(
            session, slug=SLUG, target=target, storage=LocalStorage(Path(env["MEDIA_DIR"]))
        )
    engine.dispose()
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def import_(env: dict[str, str], folder: Path) -> None:
    """`kern import --instructor <the demo instructor>`, in this process."""
    engine = create_engine(env["DATABASE_URL"])
    with Session(engine) as session:
        owner = session.exec(select(User).where(User.email == DEMO_INSTRUCTOR_EMAIL)).one()
        media_imports.import_package(
            session,
            packages.load_package(folder),
            instructor=owner,
            storage=LocalStorage(Path(env["MEDIA_DIR"])),
            max_video_bytes=MB,
        )
        session.commit()
    engine.dispose()


def lesson_body(env: dict[str, str]) -> str:
    engine = create_engine(env["DATABASE_URL"])
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == SLUG)).one()
        module = session.exec(select(Module).where(Module.course_id == course.id)).one()
        body = session.exec(select(Lesson.body).where(Lesson.module_id == module.id)).one()
    engine.dispose()
    return body


def paste_html(page: Page, selector: str, html: str) -> None:
    """Paste as the browser does when Word's text is on the clipboard."""
    page.eval_on_selector(
        selector,
        """(field, html) => {
            const data = new DataTransfer();
            data.setData("text/html", html);
            data.setData("text/plain", "plain text that must not be used");
            field.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        html,
    )


def test_she_writes_a_lesson_without_markdown_and_it_travels_in_a_package(
    browser: Browser,
    live_server: str,
    *,
    server_env: dict[str, str],
    demo_instructor_secret: str,
    draft_course: int,
    tmp_path: Path,
) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    sign_in_demo_instructor(page, live_server, demo_instructor_secret)
    page.goto(live_server + "/studio")
    expect(page.locator(".studio-courses")).to_contain_text("Cursus")  # the studio, as a table
    screenshot(page, "editor-studio-table-1280")

    page.goto(f"{live_server}/studio/courses/{SLUG}/modules/{draft_course}/lessons/new")
    for html, markdown in CONVERSIONS:
        assert page.evaluate("html => KernEditor.htmlToMarkdown(html)", html) == markdown
    assert page.evaluate("html => KernEditor.htmlToMarkdown(html)", WORD_CLIPBOARD) == WORD_MARKDOWN

    page.get_by_label(nl("Title"), exact=True).fill("Schrijven zonder Markdown")
    body = page.get_by_label(nl("Text of the lesson"), exact=True)
    toolbar = page.get_by_role(
        "toolbar", name=nl("Formatting: %(field)s") % {"field": nl("Text of the lesson")}
    )
    expect(toolbar).to_be_visible()

    # Bold by its shortcut, on words she selected with the keyboard.
    body.focus()
    page.keyboard.type("Adem rustig")
    for _ in "rustig":
        page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Control+b")
    page.keyboard.press("End")
    page.keyboard.type(" in en uit.\n\n")
    # A list from the bar: one tab stop back, arrow keys to the button, Enter.
    page.keyboard.press("Shift+Tab")
    expect(toolbar.get_by_role("button", name=nl("Bold"))).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name=nl("List"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(body).to_be_focused()
    page.keyboard.type("Op je rug\n")
    page.keyboard.press("Shift+Tab")  # the bar remembers the button she used last
    expect(toolbar.get_by_role("button", name=nl("List"))).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.type("Op je zij\n\n")
    # An image from the bar's last button, through its small dialog.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=nl("Insert an image"))
    expect(dialog.get_by_label(nl("Description"))).to_be_focused()
    page.keyboard.type("Op je rug met gebogen knieën")
    page.keyboard.press("Tab")
    # A picture from another site would not show (and would tell that site who reads): refused.
    page.keyboard.type("https://example.org/rug.png")
    page.keyboard.press("Enter")
    address = dialog.get_by_label(nl("Address"))
    expect(address).to_have_attribute("aria-invalid", "true")
    page.keyboard.press("Control+a")
    page.keyboard.type("/static/img/kern.svg")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    page.keyboard.type("\n\n")

    paste_html(page, "#f-body", WORD_CLIPBOARD)
    written = (
        "Adem **rustig** in en uit.\n\n- Op je rug\n- Op je zij\n\n"
        "![Op je rug met gebogen knieën](/static/img/kern.svg)\n\n" + WORD_MARKDOWN
    )
    expect(body).to_have_value(written)
    # Undo takes the paste back as it would typed words (with them, as the browser groups its
    # steps), and redo brings it again.
    page.keyboard.press("Control+z")
    expect(body).not_to_have_value(re.compile("Ademen met je bekkenbodem"))
    page.keyboard.press("Control+Shift+z")
    expect(body).to_have_value(written)

    preview = page.locator("#lesson-preview")
    expect(preview.locator("strong", has_text="rustig")).to_be_visible()
    expect(preview.get_by_role("img", name="Op je rug met gebogen knieën")).to_be_visible()
    expect(preview.locator("h2", has_text="Ademen met je bekkenbodem")).to_be_visible()
    expect(preview.locator("li", has_text="Adem uit door je mond")).to_be_visible()
    box, shown = body.bounding_box(), preview.bounding_box()
    assert box
    assert shown
    assert shown["x"] > box["x"] + box["width"], "side by side at 1280 px"
    screenshot(page, "editor-lesson-1280")
    assert problems == [], problems  # nothing refused by the Content Security Policy

    page.get_by_role("button", name=nl("Add lesson")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schrijven zonder Markdown")
    assert lesson_body(server_env) == written

    # A course package carries it out and back in unchanged.
    exported = export(server_env, tmp_path / "out")
    assert any(written.encode() in content for content in exported.values())
    import_(server_env, tmp_path / "out" / SLUG)
    assert lesson_body(server_env) == written
    assert export(server_env, tmp_path / "again") == exported

    # On a phone (or a tablet held upright) the bar wraps and the preview follows the text.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(toolbar).to_be_visible()
    fits_the_phone(page)
    screenshot(page, "editor-lesson-390")
    context.close()
