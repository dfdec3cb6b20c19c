"""A refused operation (DomainError) as the dashboard shows it: in the page's language, in one place.

Services raise DomainError with an English message and a stable `code`. The dashboard shows the message
itself when the catalog translates it (the messages below are in the catalog), else the text of its
code; on an English page the service's own message is shown. The bots do the same with their own
catalog (`error.<code>` keys in bots/locales, bots/handlers/common.py:error_text).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.i18n import current_language
from app.services.errors import DomainError

#: One text per error code, for messages the catalog does not translate word for word.
CODE_TEXTS = {
    "domain_error": _l("This could not be done."),
    "validation_failed": _l("A value is not valid; check the form and try again."),
    "invalid_amount": _l("The amount is not valid."),
    "insufficient_funds": _l("The balance is too low for this."),
    "idempotency_conflict": _l("This request was already used for something else."),
    "idempotency_key_reused": _l("This request was already used for something else."),
    "not_found": _l("It no longer exists."),
    "not_allowed": _l("This is not allowed."),
    "try_again": _l("Someone changed this at the same moment; please try again."),
    "invalid_transition": _l("This was already decided or changed; reload the page."),
    "open_receipt_exists": _l("This member already has an open invoice."),
    "no_card_available": _l("No payment card can take this amount now."),
    "no_free_amount": _l("No unique amount is free for this invoice now; try again later."),
    "wallet_insufficient": _l("The wallet cannot cover this sale; top up the wallet."),
    "too_many_attempts": _l("Too many attempts; wait a few minutes and try again."),
    "quota_exhausted": _l("The daily limit is used up."),
    "promocode_refused": _l("This promo code cannot be used."),
    "referral_refused": _l("This referral cannot be used."),
    "ticket_limit": _l("Too many open tickets."),
    "ticket_empty": _l("The message is empty."),
    "gateway_refused": _l("The payment gateway refused this."),
    "version_mismatch": _l("This changed meanwhile; reload and try again."),
    "image_rejected": _l("This file is not a picture that can be read."),
    "image_too_large": _l("The picture is too large."),
    "platform_receipt_pending": _l("A wallet top-up receipt is already waiting for review."),
}

#: Service messages the catalog translates word for word (the ones an owner meets in the dashboard).
#: Listed here so `make messages` extracts them; tests/test_error_texts.py checks each is still raised.
KNOWN_MESSAGES = (
    _l("A card number has 16 digits, e.g. 6037 9912 3456 7893."),
    _l("This card number is mistyped: its check digit does not match."),
    _l("This card is already in your list."),
    _l("A discount is 1 to 99 percent; give a plan free with a plan-days code."),
    _l("A plan-days code needs one of this tenant's plans."),
    _l("A promo code has 3 to 32 letters, digits, dashes or underscores."),
    _l("Max uses must be a whole number above zero, or empty for no limit."),
    _l("The expiry must be in the future."),
    _l("The plan name must have 1 to 100 characters."),
    _l("This plan is no longer on sale."),
    _l("The amount is a whole number of Toman, not zero."),
    _l("Enter the amount as a whole number of Toman, e.g. 250000."),
    _l("The amount must be a whole number of Toman."),
    _l("The amount must be more than zero Toman."),
    _l("Enter a whole number."),
    _l("Enter a whole number using the digits 0-9 or ۰-۹."),
    _l("A name needs at least one visible character."),
    _l("The value must be a whole number above zero."),
    _l("The current password is wrong."),
    _l("This bot token is already connected."),
    _l("That is not a bot token. It looks like 123456789:AAE... (from @BotFather)."),
    _l("Only the owner or an approver may decide receipts."),
    _l("This invoice has expired; please open a new one."),
    _l("Staff are invited as approver or viewer."),
    _l("This account already belongs to that tenant."),
    _l("This account is blocked."),
    _l("The endpoint URL must be an http(s) URL of at most 500 characters."),
    _l("The endpoint URL points to a private or loopback address; use a public one."),
    _l("Give the token a name of 1 to 80 characters."),
    _l("No such plan."),
    _l("No such card."),
    _l("No such receipt."),
    _l("No such bot."),
)


def error_message(err: DomainError) -> str:
    """`err` in the page's language: its translated message, else its code's text (English: its own message)."""
    if current_language() == "en":
        return err.message
    translated = _(err.message)
    if translated != err.message:
        return translated
    return str(CODE_TEXTS.get(err.code, CODE_TEXTS["domain_error"]))
