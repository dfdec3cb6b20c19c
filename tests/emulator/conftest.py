"""The sandbox tests' fixtures come from the shared plugin tests/plugins/sandbox.py; here they keep the
names these tests use: `sandbox` is the bare SandboxServer, `make_bot()` answers (TeleBot, bot_id), and
`webhook_receiver(failures=0)` starts a receiver. `control`, `telegram_api`, `new_token` and `png_bytes`
come from the plugin as they are.
"""

import pytest

from tests.plugins.sandbox import OPEN_CHATS, PNG_2X3, Control, WebhookReceiver  # noqa: F401


@pytest.fixture
def sandbox(sandbox_server):
    """A sandbox served on an ephemeral port for one test (the server itself)."""
    return sandbox_server


@pytest.fixture
def make_bot(make_telebot):
    """A factory of registered TeleBots talking to the sandbox: make_bot(token=None) -> (bot, bot_id)."""
    return make_telebot


@pytest.fixture
def webhook_receiver(start_webhook_receiver):
    """A factory of started WebhookReceivers, stopped after the test."""
    return start_webhook_receiver
