"""Every dashboard GET page in a real browser, as an owner who is also a platform admin, in Persian and English.

The pages come from the route list (tests/test_dashboard_persian.PAGES: every GET page an owner or a platform
admin opens), over a tenant with rows in every status. Each page's full screenshot lands in
test-artifacts/<backend>/pages/<language>/; the test fails on a 5xx answer, a JavaScript error or a console error (a
script or style the CSP refuses, a missing file) on any of them.
"""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from bots.emulator import SandboxServer
from tests.dashboard_world import build_world
from tests.factories import PASSWORD, Factories
from tests.test_dashboard_browser import artifacts, browser  # noqa: F401  (the browser fixture)
from tests.test_dashboard_persian import PAGES, seed_every_status

LANGUAGES = ("fa", "en")


@pytest.fixture(scope="module")
def served_world(app):
    """The seeded tenant, and the app served on an ephemeral port, with a sandbox (the Sandbox chat page polls it)."""
    from app.extensions import db

    sandbox = SandboxServer(host="127.0.0.1", port=0).start()
    saved = app.config["TELEGRAM_API_URL"]
    app.config["TELEGRAM_API_URL"] = sandbox.url
    with app.app_context():
        world = build_world(db, Factories(db), app.instance_path)
        world.owner.is_platform_admin = True
        db.session.commit()
        seed_every_status(db, Factories(db), world, app.instance_path)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield world, f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        server.server_close()
        sandbox.stop()
        app.config["TELEGRAM_API_URL"] = saved
        from tests.conftest import _empty_all_tables
        db.session.remove()
        _empty_all_tables(db)


def page_url(world, rule: str, arguments) -> str:
    for name in arguments:
        rule = rule.replace(f"<int:{name}>", str(world.ids[name])).replace(f"<{name}>", str(world.ids[name]))
    return rule


def visit_every_page(page, base: str, world, language: str) -> list[str]:
    """Screenshot each page; return what went wrong."""
    problems, errors = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    folder = artifacts("pages", language)
    for endpoint, rule, _method, arguments in PAGES:
        page.goto("about:blank")                     # the last page's polling stops before this one is judged
        errors.clear()
        response = page.goto(base + page_url(world, rule, arguments))
        page.wait_for_load_state("load")
        if response is None or response.status >= 500:
            problems.append(f"{language} {rule}: status {response.status if response else 'none'}")
        if errors:
            problems.append(f"{language} {rule}: console {errors[:3]}")
        page.screenshot(path=str(folder / f"{endpoint}.png"), full_page=True)
    return problems


def test_every_page_in_persian_and_english(browser, served_world):  # noqa: F811
    world, base = served_world
    problems = []
    for language in LANGUAGES:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(15_000)
        page.goto(f"{base}/login")
        page.click(f"#language-switch button[value={language}]")
        page.fill("#email", world.owner.email)
        page.fill("#password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/overview/")
        assert page.get_attribute("html", "lang") == language
        problems += visit_every_page(page, base, world, language)
        page.close()
    assert len(list(artifacts("pages", "fa").glob("*.png"))) >= len(PAGES)
    assert not problems, "\n".join(problems)
