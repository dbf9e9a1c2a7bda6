"""The project's own cloud errors. The gateway raises these; nothing else sees openstacksdk's."""

from __future__ import annotations


class CloudError(Exception):
    """A call to the cloud failed. Carries Cinder's message and request id when there is one."""

    status_code: int | None = None
    title = "The cloud refused the request"
    # Set when part of a change went through before this error (e.g. metadata set, then a
    # removal refused): the person must not read "nothing changed".
    partly_done = False

    def __init__(
        self, message: str = "", *, request_id: str = "", status_code: int | None = None
    ) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        self.request_id = request_id or ""
        if status_code is not None:
            self.status_code = status_code

    def user_message(self) -> str:
        """A sentence for a person: what happened, Cinder's words, and the id to quote."""
        text = f"{self.title}: {self.message}" if self.message != self.title else self.title
        if self.request_id:
            text += f" (request {self.request_id})"
        return text


class BadRequest(CloudError):
    status_code = 400
    title = "Cinder rejected the request"


class NotAuthenticated(CloudError):
    status_code = 401
    title = "Your sign-in has expired"


class Forbidden(CloudError):
    status_code = 403
    title = "Not permitted by the cloud's policy"


class NotFound(CloudError):
    status_code = 404
    title = "Not found in the cloud"


class Conflict(CloudError):
    status_code = 409
    title = "Conflicts with the current state"


class OverQuota(CloudError):
    status_code = 413
    title = "Quota exceeded"


class Unavailable(CloudError):
    """The cloud did not answer, timed out, or answered 5xx. Worth retrying later."""

    status_code = 503
    title = "The cloud is unreachable"


class OutcomeUnknown(CloudError):
    """A change was sent and may have been made, but no answer says so: a read timeout, a
    connection dropped after the request went out, or a 5xx from Cinder or a proxy in front
    of it. Never "nothing changed": the worker finds out what Cinder did."""

    status_code = None
    title = "Cinder did not answer in time; we are checking whether it was done"
    # The dashboard's record of the attempt (its idempotency key and audit event), set by the
    # service that sent the change.
    operation_key = ""
    event_id: int | None = None


class BadCredentials(CloudError):
    """Keystone refused the user name or password."""

    status_code = 401
    title = "Wrong user name, password or domain"


BY_STATUS: dict[int, type[CloudError]] = {
    400: BadRequest,
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: OverQuota,
}


def from_status(
    status: int | None, message: str, request_id: str = "", *, sent_change: bool = False
) -> CloudError:
    """The error for an HTTP answer. A 5xx to a change (`sent_change`) may come after Cinder
    acted, so its outcome is unknown; a 4xx always means Cinder did nothing."""
    if sent_change and (status is None or status >= 500):
        return OutcomeUnknown(message, request_id=request_id, status_code=status)
    if status is None or status >= 500:
        return Unavailable(message, request_id=request_id, status_code=status)
    cls = BY_STATUS.get(status, BadRequest)
    return cls(message, request_id=request_id, status_code=status)
