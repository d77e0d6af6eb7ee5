"""src/pages/page_server.py: the pages' hardened server (under load: test_draw_server.py)."""

import http.client
import json
import socket
import threading
import time

import pytest

from pages import page_server


class StateHandler(page_server.PageHandler):
    """A page like the live-training one: its state as JSON, and a control endpoint."""

    routes = {
        ("GET", "/state"): "state",
        ("POST", "/control"): "control",
        ("GET", "/bug"): "bug",
        ("GET", "/broken"): "broken",
        ("POST", "/hold"): "hold",
    }

    def state(self) -> dict:
        return {"epoch": self.server.epoch, "running": True}

    def control(self, body: bytes) -> dict:
        command = page_server.parse_json_object(body)
        if command.get("action") not in ("pause", "resume"):
            raise page_server.RequestError(400, "action must be 'pause' or 'resume'")
        return {"done": command["action"]}

    def bug(self) -> dict:
        raise ZeroDivisionError("a bug in a handler")

    def hold(self, body: bytes) -> dict:  # a request that takes its worker until released
        self.server.release.wait(10)
        return {"held": len(body)}

    def broken(self) -> dict:  # what a diverged network's numbers look like
        return {"loss": float("nan"), "layers": [{"moved": float("inf")}, (1.5, -float("inf"))]}


@pytest.fixture(scope="module")
def port():
    server = page_server.PageServer(("127.0.0.1", 0), StateHandler, request_timeout=2.0)
    server.epoch = 3
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def request(port: int, method: str, path: str, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read())
    finally:
        connection.close()


def test_a_get_route_answers_json(port):
    status, headers, body = request(port, "GET", "/state")
    assert (status, body) == (200, {"epoch": 3, "running": True})
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "body, status, answer",
    [
        (b'{"action": "pause"}', 200, {"done": "pause"}),
        (b'{"action": "jump"}', 400, {"error": "action must be 'pause' or 'resume'"}),
        (b"pause", 400, {"error": "the body is not JSON"}),
        (b"[1, 2]", 400, {"error": "the body must be a JSON object {...}"}),
        (b"\xff\xfe", 400, {"error": "the body is not JSON"}),
        (b"", 400, {"error": "empty body"}),
    ],
)
def test_a_post_route_reads_a_json_object(port, body, status, answer):
    assert request(port, "POST", "/control", body)[::2] == (status, answer)


@pytest.mark.parametrize(
    "method, path, status, allow",
    [
        ("GET", "/control", 405, "POST"),
        ("POST", "/state", 405, "GET"),
        ("DELETE", "/state", 405, "GET"),
        ("GET", "/", 404, None),  # this page has no files
        ("GET", "/../etc/passwd", 404, None),
    ],
)
def test_other_methods_and_paths(port, method, path, status, allow):
    got, headers, body = request(port, method, path)
    assert got == status and headers["Allow"] == allow and body["error"]


def test_a_bug_in_a_handler_is_a_500_without_details_and_the_server_goes_on(port):
    assert request(port, "GET", "/bug")[::2] == (500, {"error": "internal error"})
    assert request(port, "GET", "/state")[0] == 200


def strict_json(reply: bytes):
    """JSON as a browser's JSON.parse reads it: NaN, Infinity are not JSON."""
    return json.loads(reply, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


def test_nan_and_infinity_are_sent_as_null(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/broken")
        response = connection.getresponse()
        status, reply = response.status, response.read()
    finally:
        connection.close()
    assert status == 200
    assert strict_json(reply) == {"loss": None, "layers": [{"moved": None}, [1.5, None]]}


# ---------------------------------------------------------------------------
# The front: requests are read whole before a worker sees them (issue #29, item 9)
# ---------------------------------------------------------------------------


@pytest.fixture
def small_server(request):
    """A server of the test's own: 2 workers, 2 places in the queue, and the limits the test
    asks for (request.param, if any); yields it."""
    limits = {"request_timeout": 3.0, "max_connections": 2, "max_waiting": 2}
    limits.update(getattr(request, "param", {}))
    server = page_server.PageServer(("127.0.0.1", 0), StateHandler, **limits)
    server.epoch = 3
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def stalled(port: int, data: bytes) -> socket.socket:
    """A connection that sent data and then nothing more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(data)
    return sock


def reply_of(sock: socket.socket, wait: float = 10) -> tuple[int, dict]:
    """(status, JSON body) of what the server sends before it closes the connection."""
    sock.settimeout(wait)
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


HALF_SENT = b"POST /control HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20\r\n\r\n{"


def test_stalled_connections_hold_no_worker(small_server):
    # 2 workers and 2 queue places; 10 half-sent requests used to take all four (and a good
    # request got 503). They wait in the front now: the good one is answered at once.
    port = small_server.server_address[1]
    lorises = [stalled(port, HALF_SENT) for _ in range(10)]
    time.sleep(0.2)
    start = time.perf_counter()
    assert request(port, "GET", "/state")[::2] == (200, {"epoch": 3, "running": True})
    assert time.perf_counter() - start < 1.0
    for sock in lorises:  # each is cut at its deadline
        assert reply_of(sock) == (408, {"error": "the request did not arrive within 3 s"})


def test_complete_requests_beyond_capacity_get_503_at_once_never_an_empty_reply(small_server):
    # 2 requests held by the workers and 2 in the queue fill the server: the next complete
    # requests are told 503 at once (JSON, with Retry-After); the held ones are answered.
    port = small_server.server_address[1]
    held = [stalled(port, b"POST /hold HTTP/1.0\r\nContent-Length: 1\r\n\r\nx") for _ in range(4)]
    time.sleep(0.3)
    replies = []

    def client():
        replies.append(request(port, "GET", "/state"))

    clients = [threading.Thread(target=client) for _ in range(8)]
    start = time.perf_counter()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=10)
    assert time.perf_counter() - start < 1.0  # refused at once, not left waiting
    assert len(replies) == 8
    for status, headers, body in replies:
        assert status == 503 and headers["Retry-After"] == "1"
        assert body == {"error": "the server is busy; try again in a moment"}
    small_server.release.set()
    assert [reply_of(sock) for sock in held] == [(200, {"held": 1})] * 4
    assert request(port, "GET", "/state")[0] == 200


@pytest.mark.parametrize("small_server", [{"max_arriving": 4}], indirect=True)
def test_past_max_arriving_the_oldest_arriving_connection_is_closed_with_503(small_server):
    port = small_server.server_address[1]
    oldest, *others = [stalled(port, HALF_SENT) for _ in range(4)]
    time.sleep(0.2)
    newest = stalled(port, HALF_SENT)  # the fifth: the first makes room
    message = "too many connections are sending requests at once; try again in a moment"
    assert reply_of(oldest, wait=2) == (503, {"error": message})
    for sock in [*others, newest]:  # still open, still waiting for their requests' ends
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        sock.close()


@pytest.mark.parametrize("small_server", [{"max_held_bytes": 100_000}], indirect=True)
def test_past_the_memory_budget_the_oldest_arriving_request_is_closed_with_503(small_server):
    port = small_server.server_address[1]
    head = b"POST /control HTTP/1.0\r\nContent-Length: 80000\r\n\r\n"
    oldest = stalled(port, head + bytes(60_000))
    time.sleep(0.2)
    newest = stalled(port, head + bytes(60_000))  # 120 kB held: over the 100 kB budget
    message = "too many connections are sending requests at once; try again in a moment"
    assert reply_of(oldest, wait=2) == (503, {"error": message})
    newest.sendall(bytes(20_000))  # the rest of its body: the newest is answered
    assert reply_of(newest) == (400, {"error": "the body is not JSON"})
    assert small_server.held_bytes == 0  # everything held is freed


def test_a_head_over_64_kib_is_refused_at_once(small_server):
    port = small_server.server_address[1]
    sock = stalled(port, b"GET /state HTTP/1.0\r\nX-Big: " + b"x" * 70_000)
    message = "the request line and headers are over 65,536 bytes"
    assert reply_of(sock, wait=2) == (431, {"error": message})


def test_a_request_sent_a_few_bytes_at_a_time_is_read_whole(small_server):
    port = small_server.server_address[1]
    body = b'{"action": "pause"}'
    data = b"POST /control HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 19\n\n" + body  # LF only
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for at in range(0, len(data), 3):
        sock.sendall(data[at : at + 3])
        time.sleep(0.005)
    assert reply_of(sock) == (200, {"done": "pause"})


def test_a_client_that_closes_its_side_early_is_told_what_was_missing(small_server):
    port = small_server.server_address[1]
    sock = stalled(port, b"POST /control HTTP/1.0\r\nContent-Length: 50\r\n\r\n{}")
    sock.shutdown(socket.SHUT_WR)  # no more is coming; the reply can still be read
    message = "the request ended before its headers, or the body they declare, were complete"
    assert reply_of(sock) == (400, {"error": message})
