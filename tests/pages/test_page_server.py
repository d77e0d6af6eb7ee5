"""src/pages/page_server.py: the pages' hardened server (under load: test_draw_server.py)."""

import http.client
import json
import threading

import pytest

from pages import page_server


class StateHandler(page_server.PageHandler):
    """A page like the live-training one: its state as JSON, and a control endpoint."""

    routes = {
        ("GET", "/state"): "state",
        ("POST", "/control"): "control",
        ("GET", "/bug"): "bug",
        ("GET", "/broken"): "broken",
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
