"""The layering rule, read from the source: app/ does not import bots/ (bots/ may import app/).

Services are shared by views, bots, jobs and the API, so no service (nor model) may depend on the bot
engine. A few entry points of app/ wire the engine in; they are named below, each with its reason, and nothing else
may join them. (A receipt decision's messages are outbox rows written by app.services.receipt_announcements,
rendered by the handlers in bots/notify.py.)
(app.worker.HANDLER_MODULES names outbox handlers in bots/ as strings, imported by the worker process:
that wiring is not an import statement and is not counted here.)
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The modules of app/ that import bots/ today, and why. Shrink this; never grow it for a service.
ENTRY_POINTS = {
    "app/cli.py": "`flask sandbox` runs the Telegram sandbox (bots.emulator)",
    "app/devserver.py": "`make run` starts the sandbox next to the dashboard",
    "app/runtime/components.py": "the runtime process starts the BotManager",
    "app/webhooks/routes.py": "POST /tg/<bot_id> hands the update to the bot engine",
}


def imports_bots(source: str) -> list[int]:
    """Line numbers of every `import bots...` / `from bots... import`, at module level or inside a function."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "bots" or name.startswith("bots.") for name in names):
            lines.append(node.lineno)
    return sorted(lines)


def importers_of_bots() -> dict[str, list[int]]:
    found = {}
    for path in sorted(ROOT.glob("app/**/*.py")):
        lines = imports_bots(path.read_text(encoding="utf-8"))
        if lines:
            found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_app_imports_bots_only_in_the_named_entry_points():
    found = importers_of_bots()
    unexpected = {path: lines for path, lines in found.items() if path not in ENTRY_POINTS}
    assert not unexpected, f"app/ must not import bots/ (move the code under app/, or invert the call): {unexpected}"
    gone = sorted(set(ENTRY_POINTS) - set(found))
    assert not gone, f"these no longer import bots/; take them off ENTRY_POINTS: {gone}"
    assert not [path for path in ENTRY_POINTS if path.startswith(("app/services/", "app/models/"))]


def test_the_check_sees_every_form_of_import():
    source = ("import bots\nimport bots.manager as m\nfrom bots import notify\nfrom bots.notify import x\n"
              "def f():\n    from bots.emulator import serve_forever\n"
              "import botsy\nfrom app import bots\nfrom .bots import y\nfrom app.services import bots as b\n")
    assert imports_bots(source) == [1, 2, 3, 4, 6]
