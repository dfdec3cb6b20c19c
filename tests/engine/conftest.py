"""The bot engine's fixtures live in the shared plugin tests/plugins/sandbox.py (registered for every test).

The names stay importable from here for modules that import them by this path (no test needs to import a
fixture any more; the fixtures are re-exported only so older imports keep working).
"""
from tests.plugins.sandbox import (  # noqa: F401
    ENGINE_CONFIG,
    TEST_HANDLERS,
    Sandbox,
    bot_app,
    closed_port_url,
    engine_pointed_at,
    failing_statements,
    live_app,
    make_bot,
    sandbox,
    sandbox_server,
    start_manager,
    wait_until,
)
