"""Selling properly: the withdrawal waiver at checkout, invoices with VAT as PDF, credit notes,
gap-free numbers under concurrent payments, and the quarter's revenue as CSV."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.accounts.models import Role
from api.clock import local_day
from api.config import Settings
from api.invoices import pdf as invoice_pdf
from api.invoices import revenue
from api.invoices import service as invoices
from api.invoices.models import Invoice, InvoiceKind
from api.invoices.vat import vat_in
from api.payments import fulfilment
from api.payments.models import Order
from api.practice_identity import service as identity_service
from api.seed import DEMO_PRACTICE
from api.terms import service as terms_service
from api.terms.waiver import WAIVER_VERSION
from tests.factories import enable_totp, log_in, make_course, make_user, post_form
from tests.payments.conftest import PRICE, WEBHOOK_SECRET, Shop, webhook_of
from tests.payments.test_webhook import checkout_for
from tests.pdfs import pdf_text
from tests.smtp import Mailbox, text_of
from tests.stripe_server import Event, StripeServer


def with_practice_and_terms(session: Session) -> None:
    identity_service.save(session, form=DEMO_PRACTICE, now=datetime.now(UTC))
    form = terms_service.TermsForm(body_nl="## Voorwaarden\n\nTekst.", body_en="")
    terms_service.save(session, form=form, user=None, now=datetime.now(UTC))


def documents(session: Session) -> list[Invoice]:
    session.expire_all()
    return list(session.exec(select(Invoice).order_by(col(Invoice.id))).all())


def test_without_the_waiver_there_is_no_checkout(shop: Shop) -> None:
    response = post_form(shop.client, f"/courses/{shop.course.slug}/checkout")

    assert response.status_code == 422
    assert "Tick the box if you want access to start right away" in response.text
    # The box is there again, still unticked, with the form it belongs to.
    assert 'name="withdrawal_waiver" value="yes" aria-invalid="true">' in response.text
    assert shop.orders() == []
    assert shop.stripe.requests == []


def test_a_paid_order_gets_an_invoice_with_every_required_field(
    shop: Shop, mailbox: Mailbox
) -> None:
    with_practice_and_terms(shop.session)
    session_id = shop.start()
    shop.stripe.complete(session_id, method="ideal", name="Alice de Vries")

    assert shop.back_from_stripe(session_id).status_code == 200

    order = shop.order()
    assert (order.terms_version, order.withdrawal_waiver_version) == (1, WAIVER_VERSION)
    assert order.withdrawal_waiver_at is not None
    [invoice] = documents(shop.session)
    year = local_day(invoice.issued_at).year
    assert invoice.number == f"{year}-000001"
    # The account page links it; the PDF is hers to download.
    assert f'href="/account/invoices/{invoice.number}"' in shop.client.get("/account").text
    response = shop.client.get(f"/account/invoices/{invoice.number}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    vat = vat_in(PRICE, Decimal(21))
    for expected in (
        "Invoice",
        "Bekkenpraktijk De Kern (demo)",
        "Oudegracht 100",
        "3511 AX Utrecht",
        "KvK number: 12345678",
        "VAT number: NL123456789B01",
        "Alice de Vries",
        invoice.number,
        # The day in Amsterdam, as the invoice gives it (after 23:00 UTC in winter, the next).
        local_day(invoice.issued_at).strftime("%-d %B %Y"),
        f"Online course: {shop.course.title}",
        f"Price excluding VAT €{(PRICE - vat) / 100:.2f}",
        "VAT 21% (NL)",
        f"€{vat / 100:.2f}",
        "Total including VAT",
        "€49.00",
        "Paid with iDEAL (ING)",
    ):
        assert expected in " ".join(text.split()), (expected, text)
    # The receipt carries the PDF and confirms her request for immediate access.
    [receipt] = shop.mails("receipt")
    assert receipt.attachment_name == f"factuur-{invoice.number}.pdf"
    # The outbox names the document; the worker makes its PDF when it sends the mail.
    assert (receipt.attachment, receipt.attachment_ref) == (None, f"invoice:{invoice.id}:nl")
    assert receipt.text_body is not None
    # (in her language, Dutch)
    assert "je herroepingsrecht van 14 dagen vervalt zodra de toegang is begonnen" in (
        " ".join(receipt.text_body.split())
    )
    assert f"Factuurnummer: {invoice.number}" in receipt.text_body
    # Sent, the receipt carries the PDF, and the outbox keeps neither file nor reference.
    [sent] = [mail for mail in mailbox.messages if invoice.number in text_of(mail)]
    [pdf] = list(sent.iter_attachments())
    assert pdf.get_filename() == f"factuur-{invoice.number}.pdf"
    assert invoice.number in pdf_text(pdf.get_content())
    [receipt] = shop.mails("receipt")
    assert (receipt.status, receipt.attachment_ref) == ("sent", None)


def test_with_stripe_tax_the_invoice_shows_the_vat_stripe_computed(
    shop: Shop, stripe_settings: Settings
) -> None:
    stripe_settings.stripe_tax = True
    session_id = shop.start()
    [request] = [r for r in shop.stripe.requests if r.path == "/v1/checkout/sessions"]
    assert request.params["automatic_tax"] == {"enabled": "true"}
    assert request.params["line_items"][0]["price_data"]["tax_behavior"] == "inclusive"

    shop.stripe.complete(session_id, method="bancontact", country="DE")
    shop.back_from_stripe(session_id)

    [invoice] = documents(shop.session)
    german = vat_in(PRICE, Decimal(19))
    assert (invoice.vat_source, invoice.country, invoice.vat_cents) == ("stripe", "DE", german)
    assert invoice.vat_lines == [
        {"country": "DE", "rate": "19", "net_cents": PRICE - german, "vat_cents": german}
    ]
    assert invoice.total_cents == PRICE  # the price she saw includes the VAT
    assert invoice.payment_method == "Bancontact (VAN DE PUTTE)"


def test_a_refund_yields_a_credit_note(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    shop.deliver(shop.stripe.refund(shop.charge_id(session_id)))

    invoice, credit_note = documents(shop.session)
    assert credit_note.kind == InvoiceKind.credit_note
    assert credit_note.credits_invoice_id == invoice.id
    assert credit_note.number > invoice.number
    assert (credit_note.total_cents, credit_note.vat_cents) == (-PRICE, -invoice.vat_cents)
    assert invoice.payment_method == "Visa •••• 4242"
    text = pdf_text(shop.client.get(f"/account/invoices/{credit_note.number}").content)
    assert "Credit note" in text
    assert "Cancels invoice" in text
    assert invoice.number in text
    assert "-€49.00" in text.replace(" ", "")
    [refund_mail] = shop.mails("refund")
    assert refund_mail.attachment_name == f"creditnota-{credit_note.number}.pdf"


def test_partial_refunds_are_credited_in_part_and_a_failed_refund_is_invoiced_anew(
    shop: Shop, stripe_settings: Settings
) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    charge = shop.charge_id(session_id)

    shop.deliver(shop.stripe.refund(charge, amount=1000), times=2)
    shop.deliver(shop.stripe.refund(charge, amount=900))
    invoice, first, second = documents(shop.session)
    assert [doc.credits_invoice_id for doc in (first, second)] == [invoice.id, invoice.id]
    # The VAT in proportion: what a price of € 10 or € 9 holds.
    assert (first.total_cents, first.vat_cents) == (-1000, -vat_in(1000, Decimal(21)))
    assert (second.total_cents, second.vat_cents) == (-900, -vat_in(900, Decimal(21)))
    assert f'href="/account/invoices/{second.number}"' in shop.client.get("/account").text
    assert "Partly credits invoice" in pdf_text(
        shop.client.get(f"/account/invoices/{second.number}").content
    )

    [refund] = [e.object for e in shop.events_of("refund.created")][-1:]
    shop.deliver(shop.stripe.fail_refund(refund["id"]))
    shop.deliver(shop.stripe.refund(charge))  # the rest: € 39,00

    *_, again, rest = documents(shop.session)
    assert (again.kind, again.total_cents) == (InvoiceKind.invoice, 900)
    assert (rest.kind, rest.credits_invoice_id) == (InvoiceKind.credit_note, again.id)
    assert rest.total_cents == -3900
    # Together they come to nothing, to the cent, VAT too.
    assert sum(doc.total_cents for doc in documents(shop.session)) == 0
    assert sum(doc.vat_cents for doc in documents(shop.session)) == 0
    quarter = revenue.Quarter.of(datetime.now(UTC))
    report = revenue.report(shop.session, viewer=make_user(shop.session, role=Role.admin),
                            quarter=quarter)  # fmt: skip
    assert (report.sales_cents, report.refunds_cents) == (PRICE + 900, -PRICE - 900)


def test_a_lost_dispute_yields_a_credit_note(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    [created] = shop.stripe.dispute(shop.charge_id(session_id))
    shop.deliver([created])
    assert len(documents(shop.session)) == 1  # open: nothing is credited yet

    shop.deliver(shop.stripe.close_dispute(created.object["id"], won=False))

    invoice, credit_note = documents(shop.session)
    assert (credit_note.kind, credit_note.credits_invoice_id) == ("credit_note", invoice.id)
    assert (credit_note.total_cents, credit_note.vat_cents) == (-PRICE, -invoice.vat_cents)


def test_names_in_any_european_alphabet_are_printed_as_written(session: Session) -> None:
    name = "Łucja Zoë Sørås-Ødegård"
    document = Invoice(
        number="2026-000042", kind=InvoiceKind.invoice, seller={"trading_name": "Åse Ødegård"},
        buyer_name=name, description="Ademhaling — ĳverig œfenen", total_cents=PRICE,
        net_cents=PRICE, vat_cents=0, payment_method="Visa •••• 4242",
    )  # fmt: skip

    text = pdf_text(invoice_pdf.render_pdf(document, credited_number=None, language="nl"))

    for written in (name, "Åse Ødegård", "Ademhaling — ĳverig œfenen", "Visa •••• 4242"):
        assert written in text, (written, text)


def test_twenty_payments_at_once_get_twenty_numbers_without_a_gap(
    committing_app: tuple[TestClient, Session], stripe_server: StripeServer
) -> None:
    client, session = committing_app
    course = make_course(session, price_cents=PRICE)
    learners = [make_user(session) for _ in range(20)]
    session.commit()
    events = [
        event
        for learner in learners
        for event in stripe_server.complete(checkout_for(stripe_server, learner, course))
    ]

    def deliver(event: Event) -> int:
        [response] = stripe_server.deliver(event, to=webhook_of(client), secret=WEBHOOK_SECRET)
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(deliver, events)) == [200] * 20

    session.rollback()
    numbers = sorted(doc.number for doc in session.exec(select(Invoice)).all())
    year = local_day(datetime.now(UTC)).year
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 21)]


def test_the_quarter_csv_lists_the_invoices_and_credit_notes(
    session: Session, settings: Settings, client: TestClient
) -> None:
    instructor = make_user(session, role=Role.instructor)
    mine = make_course(session, instructor=instructor, price_cents=PRICE)
    other = make_course(session, price_cents=1000)
    paid: list[Order] = []
    for course in (mine, mine, other):
        buyer = make_user(session)
        order = Order(
            user_id=buyer.id,
            course_id=course.id,
            course_title=course.title,
            subtotal_cents=course.price_cents,
            amount_cents=course.price_cents,
            stripe_checkout_session_id=f"demo_cs_quarter_{len(paid)}",
        )
        session.add(order)
        session.flush()
        paid.append(fulfilment.pay_demo(session, settings, order=order))
    invoices.follow(session, order=paid[1], refunded=True)  # what a refund does to documents
    quarter = revenue.Quarter.of(datetime.now(UTC))

    report = revenue.report(session, viewer=instructor, quarter=quarter)
    lines = revenue.as_csv(report, credited=revenue.credited_numbers(session, report.documents))

    first, second, credit = report.documents
    vat = vat_in(PRICE, Decimal(21))
    day = local_day(datetime.now(UTC)).isoformat()
    net, tax = f"{(PRICE - vat) / 100:.2f}", f"{vat / 100:.2f}"
    title = mine.title
    assert lines.splitlines() == [
        ",".join(revenue.CSV_HEADER),
        f"{first.number},invoice,{day},,{title},{first.buyer_name},NL,21,{net},{tax},49.00,EUR,Demo",
        f"{second.number},invoice,{day},,{title},{second.buyer_name},NL,21,{net},{tax},49.00,EUR,Demo",
        f"{credit.number},credit_note,{day},{second.number},{title},{credit.buyer_name},"
        f"NL,21,-{net},-{tax},-49.00,EUR,Demo",
    ]
    assert (report.invoices, report.credit_notes, report.total_cents) == (2, 1, PRICE)
    # The instructor's page; a quarter that does not exist is a plain message, not an error.
    log_in(client, instructor, secret=enable_totp(session, instructor))
    page = client.get(f"/studio/revenue?quarter={quarter}")
    assert page.status_code == 200
    assert first.number in page.text
    csv = client.get(f"/studio/revenue.csv?quarter={quarter}")
    assert csv.status_code == 200
    assert csv.text.lstrip("\ufeff").splitlines() == lines.splitlines()
    for wrong in ("2026-Q5", "kwartaal", "1999-Q1"):
        refused = client.get(f"/studio/revenue.csv?quarter={wrong}")
        assert refused.status_code == 422
        assert "2026-Q4" in refused.text
    assert client.get("/studio/revenue?quarter=2026-Q0").status_code == 422
