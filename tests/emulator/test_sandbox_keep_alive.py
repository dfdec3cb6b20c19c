"""The sandbox keeps HTTP/1.1 connections open between Bot API calls (werkzeug's server closed each one), and
still frames every request right: a body the app did not read is skipped, chunked bodies and
`Connection: close` end the connection."""

import http.client
import json
import socket

import pytest

from bots.emulator import SandboxServer
from bots.emulator.chats import chat_for_id
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def server():
    server = SandboxServer(port=0).start()
    yield server
    server.stop()


def connect(server):
    host, port = server.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def ask(connection, method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, json.loads(response.read() or b"null")


def test_calls_share_one_connection(server):
    connection = connect(server)
    ask(connection, "POST", "/sandbox/bots", json.dumps({"token": "501:keep-alive"}),
        {"Content-Type": "application/json"})
    local_port = connection.sock.getsockname()[1]

    answers = [ask(connection, "POST", "/bot501:keep-alive/getMe")[1]["result"]["id"] for _ in range(3)]

    assert answers == [501] * 3
    assert connection.sock.getsockname()[1] == local_port  # the same TCP connection throughout
    connection.close()


def test_an_unread_body_does_not_spill_into_the_next_request(server):
    connection = connect(server)
    # an unknown route answers without reading its body; the next request must still parse
    unread = "x" * 50_000
    response, body = ask(connection, "POST", "/no/such/route", unread, {"Content-Type": "text/plain"})
    assert response.status == 404 and body["ok"] is False
    response, body = ask(connection, "GET", "/bot502:after/getMe")
    assert (response.status, body["result"]["id"]) == (200, 502)
    connection.close()


def test_chunked_and_close_requests_end_the_connection(server):
    connection = connect(server)
    connection.putrequest("POST", "/bot503:chunked/sendMessage")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Content-Type", "application/json")
    connection.endheaders()
    payload = json.dumps({"chat_id": 1, "text": "hi"}).encode()
    connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload))
    response = connection.getresponse()
    assert response.getheader("Connection") == "close"
    # the body was read (chat 1 never wrote to the bot; without the body it would be "chat_id is empty")
    assert json.loads(response.read())["description"] == "Bad Request: chat not found"

    closing = connect(server)
    response, body = ask(closing, "GET", "/bot503:chunked/getMe", headers={"Connection": "close"})
    assert (response.getheader("Connection"), body["ok"]) == ("close", True)


def test_stop_closes_idle_keep_alive_connections(server):
    connection = connect(server)
    ask(connection, "GET", "/bot504:idle/getMe")
    sock = connection.sock

    server.stop()

    sock.settimeout(5)
    assert sock.recv(1) == b""  # the server closed its end
    with pytest.raises((ConnectionError, http.client.HTTPException, socket.error)):
        ask(connection, "GET", "/bot504:idle/getMe")


def test_a_request_cut_short_is_never_acted_on_and_is_logged(server):
    """A client that goes before its last byte (bots/committed_send.py's worker killed after its `sending` commit):
    the sandbox drops the request, as a real server does, and says so in `cut_short` (tests prove losses with it)."""
    token, chat = "504:cut-short", 504_000_001
    setup = connect(server)
    ask(setup, "POST", "/sandbox/bots", json.dumps({"token": token}), {"Content-Type": "application/json"})
    with server.app.state.lock:
        server.app.state.make_reachable(504, chat_for_id(chat))
    body = json.dumps({"chat_id": chat, "text": "never whole"}).encode()
    raw = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=10)
    raw.sendall(b"POST /bot%s/sendMessage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % (token.encode(), len(body)) + body[:-1])
    raw.close()

    cut = wait_until(lambda: server.cut_short, 10, message="the cut-short request logged")
    assert [(c["path"], c["body"]) for c in cut] == [("/bot504/sendMessage", body[:-1])]
    response, answer = ask(setup, "POST", f"/bot{token}/sendMessage", json.dumps({"chat_id": chat, "text": "whole"}),
                           {"Content-Type": "application/json"})
    assert response.status == 200 and answer["ok"], answer
    bot = server.app.state.find_bot(504)
    with server.app.state.lock:
        texts = [e.get("text") for e in bot.chats[chat].log_entries() if e["from_bot"]]
    assert texts == ["whole"]  # the cut-short one never reached the chat
    setup.close()
