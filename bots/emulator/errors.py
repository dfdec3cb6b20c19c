"""Bot API errors and the descriptions Telegram gives them."""

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """A Bot API failure, answered as {"ok": false, ...} with its HTTP status."""

    def __init__(self, error_code, description=None, retry_after=None):
        self.error_code = int(error_code)
        self.description = description or default_description(self.error_code, retry_after)
        self.retry_after = retry_after
        super().__init__(self.description)

    def to_json(self):
        """Return the error envelope Telegram sends."""
        body = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def default_description(error_code, retry_after=None):
    """Return Telegram's usual description for an error code."""
    if error_code == 429 and retry_after is not None:
        return f"Too Many Requests: retry after {retry_after}"
    return DEFAULT_DESCRIPTIONS.get(error_code, "Error")


def bad_request(detail):
    """Return a 400 error with Telegram's "Bad Request: ..." wording."""
    return ApiError(400, f"Bad Request: {detail}")


class ControlError(Exception):
    """A malformed or unanswerable /sandbox request."""

    def __init__(self, status, description, **extra):
        self.status = status
        self.description = description
        #: More fields for the JSON answer (e.g. "reason" of a refused join).
        self.extra = extra
        super().__init__(description)
