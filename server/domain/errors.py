"""Domain errors. Each carries a stable machine-readable code; transports map kinds to statuses."""


class DomainError(Exception):
    code = "error"
    default_message = "request failed"

    def __init__(self, message: str | None = None, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    default_message = "not found"


class Conflict(DomainError):
    code = "conflict"
    default_message = "conflicts with the current state"


class InvalidInput(DomainError):
    code = "invalid_request"
    default_message = "invalid request"


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    default_message = "not authenticated"


class Forbidden(DomainError):
    code = "forbidden"
    default_message = "not allowed"


class RateLimited(DomainError):
    """``retry_after``: whole seconds until a new attempt may succeed, when known; HTTP sends it as
    the Retry-After header."""

    code = "rate_limited"
    default_message = "too many requests, try again later"

    def __init__(
        self, message: str | None = None, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, code)
        self.retry_after = None if retry_after is None else max(1, retry_after)


class Unavailable(DomainError):
    code = "closed"
    default_message = "the line is closed now"


class InvalidTransition(Conflict):
    code = "invalid_transition"
