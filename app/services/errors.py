"""Domain errors: each carries a message a person can act on."""


class DomainError(Exception):
    """A refused operation; nothing was written. `str(err)` is safe to show to the user."""

    #: Stable machine-readable code for APIs, bots and translations.
    code = "domain_error"

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message = message
        self.params = params


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


class NotFound(DomainError):
    code = "not_found"


class ValidationFailed(DomainError):
    code = "validation_failed"


class NotAllowed(DomainError):
    code = "not_allowed"
