"""app/telegram_api: the Bot API calls' own HTTP/1.1 exchange (framing, keep-alive, errors) and `call`'s answers.

A raw socket server stands in for the Bot API and answers each request with the next scripted bytes, so the
framings Telegram, proxies and the sandbox may use are all read: Content-Length, chunked, a body that ends with
the connection, `Connection: close`.
"""
from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
from telebot import apihelper

from app import telegram_api

pytestmark = pytest.mark.timeout(30)

OK = json.dumps({"ok": True, "result": {"message_id": 7}}).encode()


def answer(body: bytes, status: str = "200 OK", *headers: str, length: bool = True) -> bytes:
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    if length:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(body: bytes) -> bytes:
    middle = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:middle], body[middle:]))
    return answer(chunks + b"0\r\n\r\n", "200 OK", "Transfer-Encoding: chunked", length=False)


class ScriptedServer:
    """Reads whole requests; answers each with the next scripted bytes, closing after it when told."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.script: list[tuple[bytes, bool]] = []
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0
        self.closed = threading.Event()  # set when the server has closed a connection after an answer
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(sock,), daemon=True).start()

    def _connection(self, sock: socket.socket) -> None:
        reader, close = sock.makefile("rb"), False
        with sock, reader:
            while self.script:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                self.requests.append((head, reader.read(length)))
                raw, close = self.script.pop(0)
                sock.sendall(raw)
                if close:
                    break
        if close:
            self.closed.set()


@pytest.fixture
def server(monkeypatch):
    server = ScriptedServer()
    monkeypatch.setattr(apihelper, "API_URL", server.url + "/bot{0}/{1}")
    telegram_api._local.connections = {}
    yield server
    for connection in telegram_api._local.connections.values():
        connection.close()
    server.listener.close()


def send(n: int = 1):
    return telegram_api.call("1:token", "sendMessage", {"chat_id": n, "text": "سلام"})


def test_answers_of_every_framing_are_read_and_the_connection_is_kept_while_it_may_be(server):
    server.script = [(answer(OK), False), (chunked(OK), False), (answer(OK, "200 OK", "Connection: close"), True),
                     (answer(OK, length=False), True), (answer(OK), False)]
    assert [send(n)["message_id"] for n in range(5)] == [7] * 5
    assert server.connections == 3  # a new one after "Connection: close" and after the body that ended it
    head, body = server.requests[0]
    assert head.startswith(b"POST /bot1:token/sendMessage HTTP/1.1\r\n")
    assert json.loads(body) == {"chat_id": 0, "text": "سلام"}


def test_a_kept_connection_the_server_closed_while_idle_is_replaced_before_sending(server):
    server.script = [(answer(OK), True), (answer(OK), False)]
    send(1)
    assert server.closed.wait(5)  # idle, then closed: a close racing the next request is not this case
    send(2)
    assert [json.loads(body)["chat_id"] for _, body in server.requests] == [1, 2]
    assert server.connections == 2


def test_telegram_refusals_raise_as_pytelegrambotapi_does(server):
    refusal = {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 3}}
    server.script = [(answer(json.dumps(refusal).encode(), "429 Too Many Requests"), False),
                     (answer(b"<html>bad gateway</html>", "502 Bad Gateway"), False)]
    with pytest.raises(apihelper.ApiTelegramException) as refused:
        send()
    assert refused.value.error_code == 429 and refused.value.result_json["parameters"]["retry_after"] == 3
    with pytest.raises(apihelper.ApiHTTPException, match="502"):
        send()


def test_a_call_whose_result_is_not_wanted_is_done_at_200_and_still_refused_otherwise(server):
    blocked = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    server.script = [(answer(b"not even JSON"), False), (answer(json.dumps(blocked).encode(), "403 Forbidden"), False)]
    assert telegram_api.call("1:token", "sendMessage", {"chat_id": 1, "text": "hi"}, result=False) is None
    with pytest.raises(apihelper.ApiTelegramException) as refused:
        telegram_api.call("1:token", "sendMessage", {"chat_id": 1, "text": "hi"}, result=False)
    assert refused.value.error_code == 403


def test_an_answer_cut_short_is_a_connection_error_and_the_connection_is_not_reused(server):
    server.script = [(answer(OK)[:-5], True), (answer(OK), False)]
    with pytest.raises(requests.ConnectionError):
        send(1)
    assert send(2)["message_id"] == 7
    assert server.connections == 2


def test_send_request_gives_pytelegrambotapi_a_response_with_headers_and_the_query_of_a_get(server):
    server.script = [(answer(OK, "200 OK", "X-Seen: yes"), False)]
    response = telegram_api.send_request("get", server.url + "/bot1:token/getMe", params={"a": "b c", "d": None})
    assert response.status_code == 200 and response.headers["x-seen"] == "yes" and response.json() == json.loads(OK)
    assert server.requests[0][0].startswith(b"GET /bot1:token/getMe?a=b+c HTTP/1.1\r\n")


class Trickle:
    """A socket whose answer arrives a few bytes per recv() (as a slow link delivers it), then the close."""

    def __init__(self, raw: bytes, step: int = 1):
        self.pieces = [raw[i:i + step] for i in range(0, len(raw), step)]

    def recv(self, size: int) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


@pytest.mark.parametrize("step", [1, 7])
def test_an_answer_split_over_many_recvs_is_read_whole_whatever_its_framing(step):
    extended = b"5;name=value\r\n" + OK[:5] + b"\r\n%x\r\n" % (len(OK) - 5) + OK[5:] + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    for raw, keeps in [(answer(OK), True), (chunked(OK), True), (answer(OK, length=False), False),
                       (answer(extended, "200 OK", "Transfer-Encoding: chunked", length=False), True),
                       (b"HTTP/1.1 100 Continue\r\n\r\n" + answer(OK, "200 OK", "X-Seen: yes"), True),
                       (answer(OK).replace(b"HTTP/1.1", b"HTTP/1.0"), False)]:
        read = telegram_api._read_answer(Trickle(raw, step))
        assert (read.status, b"".join(read.body), read.will_close) == (200, OK, not keeps), raw
    read = telegram_api._read_answer(Trickle(answer(b"", "204 No Content", length=False), step))
    assert (read.status, read.reason, read.body, read.will_close) == (204, b"No Content", [], False)


def test_an_answer_whose_headers_do_not_end_is_refused_before_it_fills_memory():
    with pytest.raises(ValueError, match="headers"):
        telegram_api._read_answer(Trickle(b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 200_000, 4096))


@pytest.mark.parametrize("raw", [
    b"hello, not HTTP\r\n\r\n",
    b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    answer(OK, "200 OK", "Connection: close")[:-5],
    chunked(OK)[:-7],
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"",
])
def test_a_malformed_or_cut_answer_is_a_connection_error_and_the_next_call_connects_anew(server, raw):
    server.script = [(raw, True), (answer(OK), False)]
    with pytest.raises(requests.ConnectionError):
        send(1)
    assert server.closed.wait(5)
    assert send(2)["message_id"] == 7
    assert server.connections == 2


def test_bytes_after_a_whole_answer_leave_it_standing_and_the_connection_is_not_reused(server):
    server.script = [(answer(OK) + b"HTTP/1.1 200 OK\r\n", False), (answer(OK), False)]
    assert send(1)["message_id"] == 7
    assert send(2)["message_id"] == 7
    assert server.connections == 2


def test_an_answer_that_does_not_come_in_time_is_a_read_timeout(server):
    server.script = [(b"", False), (answer(OK), False)]
    with pytest.raises(requests.ReadTimeout):
        telegram_api.call("1:token", "sendMessage", {"chat_id": 1, "text": "hi"}, timeout=(5, 0.2))
    assert send(2)["message_id"] == 7
    assert server.connections == 2
