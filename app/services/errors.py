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


class TryAgain(DomainError):
    """A conflict with a concurrent change (a deadlock, a serialization failure, a row that moved).

    Nothing was written; the same request will most likely succeed if repeated. The boundary's
    `retrying` runs the unit of work again a few times before it shows this to the person.
    """

    code = "try_again"
