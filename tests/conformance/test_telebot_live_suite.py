"""pyTelegramBotAPI's own live suite (tests/test_telebot.py of 4.37.1, written for api.telegram.org)
run unmodified against the sandbox: every one of its tests must pass."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import requests

from bots.emulator import SandboxServer

THIRD_PARTY = Path(__file__).resolve().parents[1] / "data" / "third_party"
SUITE = THIRD_PARTY / "pytelegrambotapi"
TOKEN = "720000001:AAE-live_suite_token"
CHAT_ID, GROUP_ID = 525252, -1001987654321
#: Tests the upstream file collects (the issue counted 57 before parametrized cases and the
#: module-level tests were included).
UPSTREAM_TEST_COUNT = 74

pytestmark = pytest.mark.timeout(280)


@pytest.fixture
def sandbox_with_chats():
    """A sandbox where the suite's bot may write to its user (CHAT_ID) and group (GROUP_ID)."""
    server = SandboxServer(host="127.0.0.1", port=0).start()
    with requests.Session() as http:
        assert http.post(server.url + "/sandbox/bots", json={"token": TOKEN}).status_code == 201
        for chat_id in (CHAT_ID, GROUP_ID):
            response = http.post(server.url + "/sandbox/chats", json={"chat_id": chat_id})
            assert response.status_code == 201, response.text
    yield server
    server.stop()


def run_upstream_suite(sandbox_url, report, *extra):
    env = {**os.environ, "TOKEN": TOKEN, "CHAT_ID": str(CHAT_ID), "GROUP_ID": str(GROUP_ID),
           "SANDBOX_URL": sandbox_url,
           "PYTHONPATH": os.pathsep.join([str(THIRD_PARTY), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "test_telebot.py", "-q", *extra, "-p", "sandbox_api_url",
         "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(SUITE),
         "--confcutdir", str(SUITE), f"--junitxml={report}"],
        cwd=SUITE / "tests", env=env, capture_output=True, text=True, timeout=240)


def outcomes(report):
    tree = ElementTree.parse(report)
    results = {}
    for case in tree.iter("testcase"):
        failed = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        results[f"{case.get('classname')}.{case.get('name')}"] = failed[0] if failed else "passed"
    return results


def test_upstream_live_suite_passes_against_the_sandbox(sandbox_with_chats, tmp_path):
    report = tmp_path / "report.xml"

    run = run_upstream_suite(sandbox_with_chats.url, report)

    results = outcomes(report)
    not_passed = {name: outcome for name, outcome in results.items() if outcome != "passed"}
    assert not_passed == {}, run.stdout[-6000:]
    assert len(results) == UPSTREAM_TEST_COUNT
    assert run.returncode == 0
