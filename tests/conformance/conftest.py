"""The sandbox driven by real third-party Telegram clients (python-telegram-bot, aiogram,
pyTelegramBotAPI), as api.telegram.org would be. Expected values come from the Bot API documentation
(core.telegram.org/bots/api), not from the sandbox's own output.

The fixtures come from the shared plugin tests/plugins/sandbox.py; here they keep this folder's meaning.
"""

import pytest

from tests.plugins.sandbox import PNG_2X3, USER_ID, Sandbox, WebhookReceiver  # noqa: F401

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sandbox(start_sandbox):
    """A sandbox client on an ephemeral port; http:// webhooks allowed for the local receivers."""
    return start_sandbox(allow_http_webhooks=True)


@pytest.fixture
def bot_with_user(sandbox):
    """(token, bot_id) of a bot the user USER_ID already wrote to."""
    token, bot_id = sandbox.new_bot()
    sandbox.user_writes(bot_id, "hi")
    return token, bot_id


@pytest.fixture
def png():
    return PNG_2X3


@pytest.fixture
def webhook_receiver(start_webhook_receiver):
    """One started webhook receiver (stopped after the test)."""
    return start_webhook_receiver()
