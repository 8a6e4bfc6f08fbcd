"""Sample data for development: the demo accounts (later: the sample courses)."""

from dataclasses import dataclass

from sqlmodel import Session

from api.accounts import service as accounts
from api.accounts.models import Role

# Known passwords are fine here: demo accounts exist only outside production (the CLI refuses
# to create them there), and a newcomer needs to log in without reading code.
DEMO_PASSWORD_INSTRUCTOR = "demo rustig bekken"  # noqa: S105
DEMO_PASSWORD_LEARNER = "demo adem in en uit"  # noqa: S105


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    name: str
    email: str
    password: str
    created: bool


DEMO_ACCOUNTS = (
    (Role.instructor, "Inge de Vries", "instructeur@kern.test", DEMO_PASSWORD_INSTRUCTOR),
    (Role.learner, "Lotte Jansen", "deelnemer@kern.test", DEMO_PASSWORD_LEARNER),
)


def load_demo_accounts(session: Session) -> list[DemoLogin]:
    """Create the demo instructor and learner unless they exist; report their logins."""
    logins = []
    for role, name, email, password in DEMO_ACCOUNTS:
        exists = accounts.find_by_email(session, email) is not None
        if not exists:
            accounts.create_user(
                session, name=name, email=email, password=password, role=role, verified=True
            )
        logins.append(DemoLogin(role, name, email, password, created=not exists))
    return logins
