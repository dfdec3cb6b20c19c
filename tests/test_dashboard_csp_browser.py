"""Every dashboard page in a real browser under the Content-Security-Policy (issue 14 item 8): chromium reports
each blocked script, style, image or fetch on the console ("Refused to ..."); no page may have one.

The world of tests/dashboard_world.py gives every page a row to show; the owner sees the tenant's pages,
the platform admin the platform's; the Swagger UI page (its own policy) must render its operations.
"""
from __future__ import annotations

import pytest

from tests.dashboard_world import build_world
from tests.factories import PASSWORD
from tests.test_dashboard_access import ACCESS, NEEDS_QUERY, PLATFORM, PUBLIC
from tests.test_dashboard_browser import browser, live_server  # noqa: F401

#: GET endpoints that answer a file, JSON, an image or a redirect to another site, not a page.
NOT_PAGES = NEEDS_QUERY | {"members.export", "exports.download", "receipts.photo", "tickets.photo"}


#: Chromium words its own console report differently by version ("Refused to ...", "... violates the following
#: Content Security Policy directive ..."); the page's securitypolicyviolation event adds one line of known shape.
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (e) => console.error(
    'Refused to load or run (CSP ' + e.violatedDirective + '): ' + (e.blockedURI || 'inline') + ' at ' +
    e.sourceFile + ':' + e.lineNumber));"""


class ViolationLog:
    """Console messages about the policy, with the page they came from."""

    def __init__(self, page):
        self.seen: list[str] = []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", lambda message: self._note(page, message.text))
        page.on("pageerror", lambda error: self.seen.append(f"{page.url}: page error {error}"))

    def _note(self, page, text: str) -> None:
        if "Refused to" in text or "Content Security Policy" in text:
            self.seen.append(f"{page.url}: {text}")


def signed_in_page(browser, base, email):  # noqa: F811
    page = browser.new_page()
    page.set_default_timeout(10_000)
    log = ViolationLog(page)
    page.goto(f"{base}/login")
    page.click("#language-switch button[value=en]")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page, log


def page_urls(app, ids: dict, platform: bool) -> list[str]:
    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        access = ACCESS.get(rule.endpoint, PUBLIC)
        if ("GET" not in rule.methods or rule.endpoint in NOT_PAGES or (access == PLATFORM) != platform
                or (access == PUBLIC and rule.endpoint != "auth.accept_invitation")):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", str(ids[name])).replace(f"<{name}>", str(ids[name]))
        urls.append(url)
    return urls


def visit_all(page, base, urls) -> list[str]:
    answers = []
    for url in urls:
        response = page.goto(base + url)
        page.wait_for_load_state("networkidle")
        if response.status != 200:
            answers.append(f"{url}: {response.status}")
    return answers


@pytest.mark.timeout(300)
def test_no_dashboard_page_breaks_the_content_security_policy(browser, live_server, bot_app, db, make):  # noqa: F811
    world = build_world(db, make, bot_app.instance_path)
    owner_urls = page_urls(bot_app, world.ids, platform=False)
    assert len(owner_urls) > 30 and "/overview/" in owner_urls and "/sandbox" in owner_urls
    page, log = signed_in_page(browser, live_server, world.owner.email)
    assert visit_all(page, live_server, owner_urls) == []
    page.goto(f"{live_server}/overview/")
    page.wait_for_selector(".chart-figure[data-drawn=true] svg")  # static/js/charts.js draws under the policy
    assert page.locator(".chart-figure[data-drawn=true] svg").count() == page.locator(".chart-figure").count() >= 4
    page.click("#language-switch button[value=fa]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "dir") == "rtl"

    admin_page, admin_log = signed_in_page(browser, live_server, world.admin.email)
    assert visit_all(admin_page, live_server, page_urls(bot_app, world.ids, platform=True)) == []
    assert log.seen + admin_log.seen == []


def test_swagger_ui_renders_under_its_policy(browser, live_server):  # noqa: F811
    page = browser.new_page()
    log = ViolationLog(page)
    page.goto(f"{live_server}/api/v1/docs")
    # Generous: the first request builds the OpenAPI document and Swagger UI renders ~100 operations.
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=60_000)
    assert log.seen == []


def test_an_injected_inline_script_is_refused_and_reported(browser, live_server):  # noqa: F811
    """The policy really blocks inline scripts, and the console listener above really hears it."""
    page = browser.new_page()
    log = ViolationLog(page)
    page.goto(f"{live_server}/login")
    with page.expect_console_message(lambda message: "Refused to" in message.text):
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.injected = true'; document.body.appendChild(s); }""")
    assert page.evaluate("window.injected === undefined")
    assert any("Refused to" in line and "script-src" in line for line in log.seen)
