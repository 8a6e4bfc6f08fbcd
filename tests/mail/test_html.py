"""The HTML part is the message's own text: escaped as a whole, with links, paragraphs and the
main action as a button, so a name or title can never become markup."""

from api.mail.html import blocks
from api.mail.templating import templates

TEXT = """Hallo <b>Anna</b> & co,

Je nieuwe deel staat klaar (zie https://kern.example/courses/a?x=1&y=2).
Tweede regel.

https://kern.example/courses/a/lessons/b

Stoppen: https://kern.example/unsubscribe/1.modules.abc

https://kern.example/account/mail
"""


def _render(text: str) -> str:
    return templates.get_template("layout.html").render(
        locale="nl", subject="Onderwerp", blocks=blocks(text), button_label="Open het nieuwe deel"
    )


def test_text_is_escaped_and_links_keep_their_own_characters_only() -> None:
    html = _render(TEXT)

    assert "<b>Anna</b>" not in html
    assert "Hallo &lt;b&gt;Anna&lt;/b&gt; &amp; co," in html
    # The closing bracket and full stop after the link are text, not part of the address.
    assert 'href="https://kern.example/courses/a?x=1&amp;y=2"' in html
    assert "Je nieuwe deel staat klaar (zie" in html
    assert "<br>Tweede regel." in html


def test_the_first_link_on_its_own_line_is_the_button_and_later_ones_stay_links() -> None:
    parts = blocks(TEXT)

    buttons = [part.link for part in parts if part.button]
    alone = [part.link for part in parts if part.link]
    assert buttons == ["https://kern.example/courses/a/lessons/b"]
    assert alone == [
        "https://kern.example/courses/a/lessons/b",
        "https://kern.example/account/mail",
    ]
    html = _render(TEXT)
    assert html.count(">Open het nieuwe deel</a>") == 1


def test_a_link_cannot_break_out_of_its_attribute() -> None:
    html = _render('Kijk: https://kern.example/a"onmouseover="alert(1)')

    assert 'onmouseover="alert' not in html
    assert 'href="https://kern.example/a"' in html
