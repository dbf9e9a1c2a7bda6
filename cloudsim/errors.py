"""Errors that handlers raise; the application turns them into JSON responses."""

from __future__ import annotations

CINDER_KEYS = {
    400: "badRequest",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "computeFault",
    409: "conflictingRequest",
    413: "overLimit",
    500: "computeFault",
    503: "serviceUnavailable",
}

KEYSTONE_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class SimError(Exception):
    """An HTTP error with the body style of the service that raises it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        style: str = "cinder",
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.style = style
        self.key = key
        self.headers = dict(headers or {})

    def body(self) -> dict:
        if self.style == "keystone":
            return {
                "error": {
                    "code": self.status,
                    "title": KEYSTONE_TITLES.get(self.status, "Error"),
                    "message": self.message,
                }
            }
        key = self.key or CINDER_KEYS.get(self.status, "computeFault")
        inner: dict = {"code": self.status, "message": self.message}
        if self.status == 413:
            inner["retryAfter"] = "0"
        return {key: inner}


def bad_request(message: str) -> SimError:
    return SimError(400, message)


def not_found(message: str) -> SimError:
    return SimError(404, message)


def no_such_action(name: str) -> SimError:
    return bad_request(
        f"There is no such action: {name}. Verify the request body and Content-Type "
        "header and try again."
    )


def forbidden(action: str) -> SimError:
    return SimError(403, f"Policy doesn't allow {action} to be performed.")


def unauthorized(style: str = "keystone") -> SimError:
    return SimError(
        401,
        "The request you have made requires authentication.",
        style="keystone",
    )
