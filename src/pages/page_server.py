"""A small HTTP server for this computer's pages (the drawing page, the live-training page):
Python's http.server, hardened so that it stays up whatever clients send or how many come.
A page is a handler class naming its files and its JSON routes:

    class LiveHandler(page_server.PageHandler):
        page_dir = Path(__file__).resolve().parent / "live"
        pages = {"/": ("index.html", page_server.HTML)}
        routes = {("GET", "/state"): "state", ("POST", "/control"): "control"}

        def state(self) -> dict:                       # GET /state -> 200, JSON
            return {"epoch": self.server.trainer.epoch}

        def control(self, body: bytes) -> dict:        # POST /control -> 200, JSON
            command = page_server.parse_json_object(body)   # or 400
            ...                                        # raise RequestError(400, "...") to refuse

    server = page_server.PageServer(("127.0.0.1", 8001), LiveHandler)
    server.trainer = ...     # what the handlers need (they run on several threads: lock it)
    server.serve_forever()

What every page gets:
- A fixed pool of `max_connections` worker threads, not a thread per connection; up to
  `max_waiting` more connections wait in a queue, and beyond that a client gets 503 at once
  (never an empty reply). The listen backlog is 128, so a burst of clients waits in the
  kernel instead of being refused.
- A deadline for the whole request, counted from when it is accepted: a request (request
  line, headers and body) that has not arrived within `request_timeout` seconds gets 408
  and its connection is closed, even if the client sends a byte every second (a slow-loris).
  A connection that waited in the queue past its deadline gets 503.
- One request per connection (HTTP/1.0), so the deadline covers the connection too.
- Every reply JSON or a whitelisted file: errors are {"error": "..."}, unknown paths 404,
  wrong methods 405 with Allow, bodies need a Content-Length (411) of at most
  `max_body_bytes` (413), and a handler's bug is a 500 with no details (they go to the log).
- Pages are served with a Content-Security-Policy that lets them load only their own files.
- DNS rebinding and cross-site requests: when the server listens on a loopback address, a
  request whose Host header is not 127.0.0.1 or localhost (with or without the port) gets
  403, and so does one whose Origin header is not the page's own, exactly
  http://127.0.0.1:PORT or http://localhost:PORT (another scheme or port is another site,
  such as a local web app on port 80; "null" is a sandboxed frame or a file). Without this,
  a web page elsewhere could make the browser send requests here (a form POST, or its own
  DNS name rebound to 127.0.0.1 to read the answers): harmless
  for the drawing page, which only reads digits, but not for a page with buttons, such as
  the live-training page's POST /control. It costs a header lookup per request. A server
  listening on another address (--host 0.0.0.0) trusts its network anyway: no check.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import re
import reprlib
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# A page may load only its own files (and data: images such as its icon), and not be framed.
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]"}
REQUEST_TIMEOUT = 10.0  # seconds for a whole request to arrive
MAX_CONNECTIONS = 32  # connections served at once, one worker thread each
MAX_WAITING = 256  # accepted connections waiting for a worker; more get 503 at once
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_ERROR_CHARACTERS = 400  # an error message is cut there (client input in it: ~100, quoted)


class RequestError(Exception):
    """A request we refuse: an HTTP status and a message for the client."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


QUOTED = reprlib.Repr()  # what an error quotes of a client's input: ~100 characters at most
QUOTED.maxstring = QUOTED.maxother = 100
QUOTED.maxlist = QUOTED.maxdict = QUOTED.maxtuple = QUOTED.maxset = 10
QUOTED.maxlevel = 3


def quoted(value) -> str:
    """repr(value), cut to about 100 characters (a 1.9 MB string once came back whole);
    nothing longer is ever built."""
    return QUOTED.repr(value)


def parse_json_object(body: bytes) -> dict:
    """A request body that must be a JSON object, or a 400 RequestError saying why not."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; [[[[...: too deep
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object {...}")
    return data


def finite_only(data):
    """data with every NaN and infinity made None (JSON's null): JSON has neither."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite_only(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_only(value) for value in data]
    return data


def json_encoded(data) -> bytes:
    """data as JSON, whatever numbers it holds (a diverged network's NaN: null); never a
    NaN token, which browsers' JSON.parse refuses. The walk is made only when needed."""
    try:
        return json.dumps(data, allow_nan=False).encode()
    except ValueError:  # a NaN or an infinity somewhere
        return json.dumps(finite_only(data), allow_nan=False).encode()


def json_bytes(status: int, data: dict) -> bytes:
    """A whole HTTP/1.0 reply with a JSON body, for answering without a handler."""
    body = json.dumps(data).encode()
    head = (
        f"HTTP/1.0 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """An accepted socket and the moment its request must have arrived by."""

    def __init__(self, sock: socket.socket, address, deadline: float) -> None:
        self.sock, self.address, self.deadline = sock, address, deadline
        self.expired = False  # set by the watchdog when it cut the reading side

    def cut_reading(self) -> None:
        """Make every read, now or later, see the end of the stream; writing still works, so
        the handler can still send its 408."""
        self.expired = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RD)


class PageServer(HTTPServer):
    """An HTTP server with a bounded worker pool and a deadline per request (module doc)."""

    request_queue_size = 128  # the listen backlog (socketserver's default is 5)

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[PageHandler],
        request_timeout: float = REQUEST_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.request_timeout = request_timeout
        # A page sent to a browser on this computer must name this computer (DNS rebinding).
        self.check_host = address[0] in ("127.0.0.1", "::1", "localhost")
        self.files = handler_class.load_pages()
        self.max_waiting = max_waiting
        self.waiting: queue.Queue[Connection | None] = queue.Queue()  # None: a worker stops
        self.serving: set[Connection] = set()  # the connections the workers are on
        self.serving_lock = threading.Lock()
        self.stopping = threading.Event()
        self.watchdog = threading.Thread(target=self.watch_deadlines, daemon=True)
        self.workers: list[threading.Thread] = []
        super().__init__(address, handler_class)  # binds: an OSError if the port is taken
        self.workers = [
            threading.Thread(target=self.work, daemon=True) for _ in range(max_connections)
        ]
        for thread in [self.watchdog, *self.workers]:
            thread.start()

    def process_request(self, request: socket.socket, client_address) -> None:
        """Called for every accepted connection: queue it for a worker, or refuse it now."""
        connection = Connection(request, client_address, time.monotonic() + self.request_timeout)
        if self.waiting.qsize() < self.max_waiting:  # only this thread adds: the count holds
            self.waiting.put(connection)
        else:
            self.refuse(connection, "the server is busy; try again in a moment")

    def refuse(self, connection: Connection, message: str) -> None:
        """503 and close, without a worker. The request is read first if it is already here:
        closing a socket with unread data resets it, and the client might lose the reply."""
        sock = connection.sock
        with contextlib.suppress(OSError):
            sock.settimeout(0.1)  # a reply this short fits the socket's buffer: no waiting
            with contextlib.suppress(OSError):
                sock.recv(65536, socket.MSG_DONTWAIT)
            sock.sendall(json_bytes(HTTPStatus.SERVICE_UNAVAILABLE, {"error": message}))
        self.shutdown_request(sock)

    def work(self) -> None:
        """A worker: serve queued connections one at a time, until the server closes."""
        while (connection := self.waiting.get()) is not None:
            if time.monotonic() >= connection.deadline:  # waited in the queue too long
                self.refuse(connection, "the server was too busy to answer in time; try again")
                continue
            with self.serving_lock:
                self.serving.add(connection)
            try:
                self.finish_request(connection, connection.address)
            except Exception:  # noqa: BLE001 (handle_error logs it; the worker carries on)
                self.handle_error(connection.sock, connection.address)
            finally:
                with self.serving_lock:
                    self.serving.discard(connection)
                self.shutdown_request(connection.sock)

    def watch_deadlines(self) -> None:
        """Cut the reading side of every connection whose request is late, 20 times a
        second: a client that trickles its headers cannot hold a worker past its deadline."""
        while not self.stopping.wait(0.05):
            now = time.monotonic()
            with self.serving_lock:
                late = [c for c in self.serving if now >= c.deadline and not c.expired]
            for connection in late:
                connection.cut_reading()

    def finish_request(self, connection: Connection, client_address) -> None:
        self.RequestHandlerClass(connection, client_address, self)

    def server_close(self) -> None:
        """Stop listening, close the queued connections, and stop the threads once the
        requests being served are done (the watchdog last: it still cuts late ones)."""
        super().server_close()
        with contextlib.suppress(queue.Empty):
            while True:
                self.shutdown_request(self.waiting.get_nowait().sock)
        for _ in self.workers:
            self.waiting.put(None)
        for thread in self.workers:
            thread.join(timeout=self.request_timeout + 2)
        self.stopping.set()
        if self.workers:  # started only once the port was bound
            self.watchdog.join()

    def handle_error(self, request, client_address) -> None:
        """One line, not a traceback, for a client that hung up or stalled."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            print(f"{client_address[0]}: connection dropped ({error!r})", file=sys.stderr)
        else:
            super().handle_error(request, client_address)


class PageHandler(BaseHTTPRequestHandler):
    """Serves `pages` from `page_dir` and the JSON `routes`; a subclass fills these in.

    pages:  URL path -> (file name in page_dir, Content-Type); GET and HEAD. Only these files
            are read (once, at start), and user input is never joined to a path.
    routes: (method, URL path) -> name of a method of the handler. For GET it takes no
            argument, for POST the request body (bytes, its Content-Length checked); it
            returns a JSON-ready dict (200) or raises RequestError (4xx).
    """

    server: PageServer
    page_dir: Path | None = None
    pages: dict[str, tuple[str, str]] = {}
    routes: dict[tuple[str, str], str] = {}
    max_body_bytes = MAX_BODY_BYTES
    empty_body_message = "empty body"
    server_version = "page_server"
    sys_version = ""  # no Python version in the Server header
    # http.server answers a request line it cannot read as HTTP/0.9 did: a body without a
    # status line. Every reply here has one.
    default_request_version = "HTTP/1.0"

    @classmethod
    def load_pages(cls) -> dict[str, tuple[bytes, str]]:
        """URL path -> (the file's bytes, Content-Type)."""
        return {
            url: ((cls.page_dir / name).read_bytes(), content_type)
            for url, (name, content_type) in cls.pages.items()
        }

    def __init__(self, connection: Connection, client_address, server: PageServer) -> None:
        self.deadline_connection = connection
        super().__init__(connection.sock, client_address, server)

    def setup(self) -> None:
        # Every read and write is bounded by a socket timeout too: the watchdog cuts late
        # reads at the deadline, this stops a client that never reads our reply.
        self.timeout = self.server.request_timeout + 1
        super().setup()

    # -- responses ----------------------------------------------------------------

    def send_body(
        self, status: int, content_type: str, body: bytes, extra_headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, data: dict, extra_headers: dict | None = None) -> None:
        self.send_body(status, "application/json", json_encoded(data), extra_headers)

    def send_error(
        self,
        code: int,
        message: str | None = None,
        explain: str | None = None,
        extra_headers: dict | None = None,
    ) -> None:
        """Every error as JSON; http.server calls this too, e.g. for a malformed request line."""
        if message and len(message) > MAX_ERROR_CHARACTERS:  # http.server's quote a request line
            message = message[:MAX_ERROR_CHARACTERS] + "..."
        self.log_error("%d %s", code, message or "")
        self.close_connection = True
        headers = {"Connection": "close", **(extra_headers or {})}
        self.send_json(code, {"error": message or HTTPStatus(code).phrase}, headers)

    # -- requests -------------------------------------------------------------------

    def parse_request(self) -> bool:
        """http.server's parsing, then the deadline and the Host and Origin checks."""
        late = f"the request did not arrive within {self.server.request_timeout:g} s"
        if self.deadline_connection.expired:  # even the request line is incomplete
            self.command, self.request_version, self.requestline = "", "HTTP/1.0", ""
            self.send_error(HTTPStatus.REQUEST_TIMEOUT, late)
            return False
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        if 0 < len(line.split()) != 3:  # GARBAGE, or HTTP/0.9's "GET /": 400, with a status line
            self.command, self.request_version, self.requestline = "", "HTTP/1.0", line
            self.send_error(
                HTTPStatus.BAD_REQUEST,
                f"malformed request line {quoted(line)}; expected: METHOD /path HTTP/1.1",
            )
            return False
        if not super().parse_request():
            return False
        if self.deadline_connection.expired:  # the headers were cut short
            self.send_error(HTTPStatus.REQUEST_TIMEOUT, late)
            return False
        return self.check_origin()

    def check_origin(self) -> bool:
        """403 for a request that names another site (see the module doc); True if fine."""
        if not self.server.check_host:
            return True
        port = self.server.server_address[1]
        allowed = LOOPBACK_NAMES | {f"{name}:{port}" for name in LOOPBACK_NAMES}
        host = self.headers.get("Host")
        if host is not None and host.strip().lower() not in allowed:
            self.send_error(
                HTTPStatus.FORBIDDEN,
                f"this server answers requests for 127.0.0.1:{port} only, not {host[:100]!r}",
            )
            return False
        # the page's own origin exactly: scheme, name and port (not another local web app's)
        origins = {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost")}
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() not in origins:  # "null" too
            self.send_error(HTTPStatus.FORBIDDEN, "cross-site requests are not answered")
            return False
        return True

    def do_GET(self) -> None:
        if self.path in self.server.files:
            body, content_type = self.server.files[self.path]
            csp = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
            self.send_body(HTTPStatus.OK, content_type, body, csp)
        else:
            self.answer_route()

    def do_HEAD(self) -> None:
        if self.path in self.server.files:
            self.do_GET()
        else:
            self.refuse_method()

    def do_POST(self) -> None:
        self.answer_route()

    def answer_route(self) -> None:
        """Call the route's method and send what it returns as JSON, or the error as JSON."""
        name = self.routes.get((self.command, self.path))
        if name is None:
            self.refuse_method()
            return
        try:
            method = getattr(self, name)
            answer = method(self.read_body()) if self.command == "POST" else method()
        except RequestError as error:
            self.send_error(error.status, str(error))
        except TimeoutError:
            late = f"the request did not arrive within {self.server.request_timeout:g} s"
            self.send_error(HTTPStatus.REQUEST_TIMEOUT, late)
        except Exception as error:  # noqa: BLE001 (a bug: no details to the client, only the log)
            self.log_error("internal error on %s: %r", self.path, error)
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        else:
            self.send_json(HTTPStatus.OK, answer)

    def refuse_method(self) -> None:
        """405 on a known path, with the methods it takes; 404 on any other."""
        allowed = [method for method, path in self.routes if path == self.path]
        if self.path in self.server.files:
            allowed += ["GET", "HEAD"]
        if not allowed:
            self.send_error(HTTPStatus.NOT_FOUND, "no such page")
            return
        allowed_text = ", ".join(sorted(set(allowed), key=allowed.index))
        self.send_error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{self.command} not allowed here; use {allowed_text}",
            extra_headers={"Allow": allowed_text},
        )

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method

    def read_body(self) -> bytes:
        """The request body, after its declared length has been checked."""
        if "Transfer-Encoding" in self.headers:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not chunks")
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "missing Content-Length")
        if len(set(lengths)) > 1 or not re.fullmatch(r"[0-9]+", lengths[0].strip()):
            raise RequestError(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
        length = int(lengths[0].strip()[:20])  # 20 digits are already far over the cap
        if length > self.max_body_bytes:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"body of {length:,} bytes; at most {self.max_body_bytes:,} are accepted",
            )
        if length == 0:
            raise RequestError(HTTPStatus.BAD_REQUEST, self.empty_body_message)
        body = self.rfile.read(length)  # a client that stalls here is cut at the deadline
        if len(body) < length:
            if self.deadline_connection.expired:
                raise TimeoutError("deadline")
            raise RequestError(HTTPStatus.BAD_REQUEST, "body shorter than its Content-Length")
        return body
