"""The Telegram sandbox: a Bot API emulator with a control API (see docs/sandbox.md)."""

from .app import SandboxApp, create_sandbox_app
from .server import SandboxServer, serve_forever
from .webhooks import RetryPolicy

__all__ = ["RetryPolicy", "SandboxApp", "SandboxServer", "create_sandbox_app", "serve_forever"]
