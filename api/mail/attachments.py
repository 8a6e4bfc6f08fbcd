"""Files a mail takes along that are made when the mail is sent, not when it is queued.

An invoice's PDF takes about a tenth of a second to make. Made in the payment's transaction, it
would hold the invoice counter (and on SQLite the whole database) that long for every payment,
so twenty payments at once would queue behind each other's PDFs. The outbox keeps a reference
instead ("invoice:42:nl"), and the worker asks the maker registered for its kind for the bytes
when it sends the mail: the document is stored and never changes, so the file is the same.

A domain registers its maker when it is imported (api/invoices/pdf.py: "invoice"); the mail
package knows no domain.
"""

from collections.abc import Callable

from sqlmodel import Session

# A maker gets the reference without its kind ("42:nl"); None when there is nothing (any more).
Maker = Callable[[Session, str], bytes | None]

_makers: dict[str, Maker] = {}


def register(kind: str, maker: Maker) -> None:
    _makers[kind] = maker


def reference(kind: str, rest: str) -> str:
    return f"{kind}:{rest}"


def make(session: Session, ref: str) -> bytes | None:
    """The bytes of the file `ref` names; None for an unknown kind or a file that is gone."""
    kind, _, rest = ref.partition(":")
    maker = _makers.get(kind)
    return maker(session, rest) if maker is not None else None
