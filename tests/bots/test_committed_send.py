"""bots/committed_send.py: one kept connection per thread and Bot API host, the last byte after the caller's commit.

A small HTTP/1.1 server stands in for the Bot API, so the tests see connections (the sandbox answers HTTP/1.0 and
closes every connection).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telebot import apihelper

from bots import committed_send

OK = {"ok": True, "result": {"message_id": 7, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.connections = 0
        self.close_each = False
        self.bodies: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.server.connections += 1

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        if len(body) < length:  # cut short: as any HTTP server, never acted on
            self.close_connection = True
            return
        self.server.bodies.append(body)
        answer = json.dumps(OK).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        if self.server.close_each:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def bot_api(monkeypatch):
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setattr(apihelper, "API_URL", f"http://127.0.0.1:{server.server_port}/bot{{0}}/{{1}}")
    committed_send.close_kept()
    yield server
    committed_send.close_kept()
    server.shutdown()
    server.server_close()


def _send(n: int, seen: list | None = None):
    def before(indices):
        if seen is not None:
            seen.append(n)
        return set(indices)
    [answer] = committed_send.call_many("1:token", [("sendMessage", {"chat_id": n, "text": f"hi {n}"}, None)],
                                        before_last_bytes=before)
    if isinstance(answer, Exception):
        raise answer
    return answer


def test_sends_reuse_one_kept_connection(bot_api):
    seen: list[int] = []
    answers = [_send(n, seen) for n in range(5)]
    assert [a.message_id for a in answers] == [7] * 5
    assert seen == list(range(5))
    assert [json.loads(b)["chat_id"] for b in bot_api.bodies] == list(range(5))
    assert bot_api.connections == 1


def test_a_server_that_closes_gets_a_new_connection_each_time(bot_api):
    bot_api.close_each = True
    for n in range(3):
        _send(n)
    assert bot_api.connections == 3 and len(bot_api.bodies) == 3


def test_a_kept_connection_the_server_dropped_is_replaced_and_the_message_goes_once(bot_api):
    _send(1)
    for idle in committed_send._kept.connections.values():  # the server's side goes away while idle
        for connection, _ in idle:
            connection.sock.shutdown(2)
    _send(2)
    assert [json.loads(b)["chat_id"] for b in bot_api.bodies] == [1, 2]
    assert bot_api.connections == 2


def test_a_failing_commit_leaves_the_request_unfinished_and_the_connection_unkept(bot_api):
    def refuse(indices):
        raise RuntimeError("the commit failed")
    [answer] = committed_send.call_many("1:token", [("sendMessage", {"chat_id": 3, "text": "no"}, None)],
                                        before_last_bytes=refuse)
    assert isinstance(answer, committed_send.NotSent)
    _send(4)
    assert [json.loads(b)["chat_id"] for b in bot_api.bodies] == [4]  # the cut-short request was never acted on
    assert bot_api.connections == 2


def _calls(*chats: int) -> list:
    return [("sendMessage", {"chat_id": n, "text": f"hi {n}"}, None) for n in chats]


def test_a_group_is_written_side_by_side_and_finished_after_one_commit(bot_api):
    asked: list[list[int]] = []

    def commit(indices):
        asked.append(list(indices))
        assert bot_api.bodies == []  # nothing whole reached the server before the commit
        return set(indices)
    answers = committed_send.call_many("1:token", _calls(1, 2, 3), before_last_bytes=commit)
    assert asked == [[0, 1, 2]] and [a.message_id for a in answers] == [7, 7, 7]
    assert sorted(json.loads(b)["chat_id"] for b in bot_api.bodies) == [1, 2, 3]
    assert bot_api.connections == 3
    committed_send.call_many("1:token", _calls(4, 5, 6), before_last_bytes=set)
    assert bot_api.connections == 3  # the three kept connections are reused


def test_a_group_member_left_out_by_the_commit_is_never_finished(bot_api):
    answers = committed_send.call_many("1:token", _calls(1, 2, 3), before_last_bytes=lambda indices: {0, 2})
    assert isinstance(answers[1], committed_send.NotSent)
    assert [answers[0].message_id, answers[2].message_id] == [7, 7]
    _send(4)
    assert sorted(json.loads(b)["chat_id"] for b in bot_api.bodies) == [1, 3, 4]


def test_a_failing_group_commit_leaves_every_request_unfinished(bot_api):
    def refuse(indices):
        raise RuntimeError("the commit failed")
    answers = committed_send.call_many("1:token", _calls(1, 2), before_last_bytes=refuse)
    assert all(isinstance(a, committed_send.NotSent) for a in answers)
    _send(3)
    assert [json.loads(b)["chat_id"] for b in bot_api.bodies] == [3]
