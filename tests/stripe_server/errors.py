"""Errors: the ones the HTTP API answers in Stripe's shape, and the ones the control API raises."""

from typing import Any

DOCS = "https://docs.stripe.com/error-codes"


class StripeApiError(Exception):
    """An error the API answers as `{"error": {...}}` with an HTTP status, as Stripe does."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS}/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    """A 400 invalid_request_error."""
    return StripeApiError(400, message, code=code, param=param)


def missing(kind: str, object_id: str, *, param: str = "id") -> StripeApiError:
    """The 404 Stripe answers for an id it does not know."""
    return StripeApiError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


class ControlError(ValueError):
    """A test asked the control API for something Stripe would not do (e.g. refund twice)."""
