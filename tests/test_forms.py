"""Every form a page renders carries the browser's CSRF token, so it can actually be sent."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import carries_csrf_token, log_in, make_user

FORM = re.compile(r'<form[^>]*method="post"[^>]*>(.*?)</form>', re.S)
TOKEN = re.compile(r'name="csrf_token"')


def _assert_forms_carry_the_token(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    forms = FORM.findall(response.text)
    assert forms, f"{path} has no form"
    for form in forms:
        assert len(TOKEN.findall(form)) == 1, f"a form on {path} lacks the token"
        assert carries_csrf_token(client, form), f"a form on {path} has another token"


@pytest.mark.parametrize("path", ["/", "/login", "/login/link", "/register", "/forgot-password"])
def test_public_forms_carry_the_csrf_token(client: TestClient, path: str) -> None:
    client.get("/healthz")  # the first response sets the cookie
    _assert_forms_carry_the_token(client, path)


@pytest.mark.parametrize("path", ["/account", "/account/two-factor", "/account/delete"])
def test_account_forms_carry_the_csrf_token(
    client: TestClient, session: Session, path: str
) -> None:
    log_in(client, make_user(session))
    _assert_forms_carry_the_token(client, path)
