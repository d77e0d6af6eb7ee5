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
- A front and workers, as nginx and waitress are built: one thread (serve_forever) accepts
  connections and reads their requests as the bytes arrive, never waiting on any client; a
  worker (a fixed pool of `max_connections` threads, not a thread per connection) gets only a
  complete request, read from memory, so a client that stalls holds a buffer, never a worker.
  Up to `max_waiting` complete requests wait for a worker; beyond that a client gets 503 at
  once (never an empty reply). At most `max_arriving` connections may be sending their
  requests, holding `max_held_bytes` in all (arriving or waiting): past either, the oldest
  arriving one is closed with 503, so a flood of stalled connections cannot lock a good
  client out (it once did: issue #29). The listen backlog is 4,096, so a burst of clients
  waits in the kernel instead of being refused.
- A deadline for the whole request, counted from when it is accepted: a request (request
  line, headers and body) that has not arrived within `request_timeout` seconds gets 408
  and its connection is closed, even if the client sends a byte every second (a slow-loris).
  A request that waited for a worker past its deadline gets 503. A head (request line and
  headers) over 64 KiB gets 431; a client that closes its side before its request is
  complete gets 400.
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
import errno
import http.client
import io
import json
import math
import queue
import re
import reprlib
import selectors
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
MAX_WAITING = 256  # complete requests waiting for a worker; more get 503 at once
MAX_ARRIVING = 512  # connections whose request is still arriving; past it the oldest is closed
MAX_HELD_BYTES = 64 * 1024 * 1024  # requests held in memory, arriving or waiting, all together
MAX_HEAD_BYTES = 64 * 1024  # a request line and headers (a browser's are under 8 KiB)
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_ERROR_CHARACTERS = 400  # an error message is cut there (client input in it: ~100, quoted)
BUSY = "the server is busy; try again in a moment"
TOO_LATE = "the server was too busy to answer in time; try again"
TOO_MANY_ARRIVING = "too many connections are sending requests at once; try again in a moment"
ENDED_EARLY = "the request ended before its headers, or the body they declare, were complete"
HEAD_TOO_LARGE = f"the request line and headers are over {MAX_HEAD_BYTES:,} bytes"


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
    """An accepted socket, the bytes of its request read so far, and the moment the whole
    request must have arrived by."""

    def __init__(self, sock: socket.socket, address, deadline: float) -> None:
        self.sock, self.address, self.deadline = sock, address, deadline
        self.number = sock.fileno()  # its key among the arriving (a closed socket's is -1)
        self.data = bytearray()
        self.body_start: int | None = None  # where the body begins, once the head is here
        self.body_length = 0  # the body bytes to wait for after the head


def head_end(data: bytearray) -> int | None:
    """Where the head (request line and headers) ends in data, or None if it has not ended:
    an empty line, "\r\n" or "\n" as http.server reads them."""
    ends = [(data.find(blank), len(blank)) for blank in (b"\n\r\n", b"\n\n")]
    found = [at + length for at, length in ends if at != -1]
    return min(found) if found else None


def declared_body_length(headers, max_body_bytes: int) -> int:
    """The body length a request's headers declare, checked (the handler reads that many
    bytes; the front waits for them); a RequestError (411, 400 or 413) saying why not."""
    if "Transfer-Encoding" in headers:
        raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not chunks")
    lengths = headers.get_all("Content-Length") or []
    if not lengths:
        raise RequestError(HTTPStatus.LENGTH_REQUIRED, "missing Content-Length")
    if len(set(lengths)) > 1 or not re.fullmatch(r"[0-9]+", lengths[0].strip()):
        raise RequestError(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
    length = int(lengths[0].strip()[:20])  # 20 digits are already far over the cap
    if length > max_body_bytes:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"body of {length:,} bytes; at most {max_body_bytes:,} are accepted",
        )
    return length


class PageServer(HTTPServer):
    """An HTTP server whose front reads requests and whose workers answer them (module doc)."""

    request_queue_size = 4096  # the listen backlog: a burst waits in the kernel, not refused

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[PageHandler],
        request_timeout: float = REQUEST_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        max_waiting: int = MAX_WAITING,
        max_arriving: int = MAX_ARRIVING,
        max_held_bytes: int = MAX_HELD_BYTES,
    ) -> None:
        self.request_timeout = request_timeout
        # A page sent to a browser on this computer must name this computer (DNS rebinding).
        self.check_host = address[0] in ("127.0.0.1", "::1", "localhost")
        self.files = handler_class.load_pages()
        self.max_body_bytes = handler_class.max_body_bytes
        self.capacity = max_connections + max_waiting  # complete requests taken at once
        self.taken = 0  # complete requests being answered or waiting for a worker
        self.max_arriving = max_arriving
        self.arriving: dict[int, Connection] = {}  # socket number -> connection, oldest first
        self.max_held_bytes = max_held_bytes
        self.held_bytes = 0  # what the requests arriving or waiting hold, all together
        self.counting = threading.Lock()  # for both counts: the front adds, workers take
        self.waiting: queue.Queue[Connection | None] = queue.Queue()  # None: a worker stops
        self.stopping = threading.Event()
        self.front_stopped = threading.Event()
        self.workers: list[threading.Thread] = []
        super().__init__(address, handler_class)  # binds: an OSError if the port is taken
        self.workers = [
            threading.Thread(target=self.work, daemon=True) for _ in range(max_connections)
        ]
        for thread in self.workers:
            thread.start()

    # -- the front: one thread reads every request, a worker gets only a complete one ----

    def serve_forever(self, poll_interval: float = 0.05) -> None:
        """The front, until shutdown(): accept connections and read their requests as bytes
        arrive, never waiting on any one client. A connection costs a buffer until its request
        is complete; then it goes to the workers' queue. Stalled clients, however many, hold
        no worker: past the deadline they get 408, past max_arriving the oldest is closed."""
        self.socket.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            try:
                while not self.stopping.is_set():
                    for key, _ in selector.select(poll_interval):
                        if key.data is None:
                            self.accept_some(selector)
                        elif self.arriving.get(key.data.number) is key.data:  # not dropped
                            self.read_safely(selector, key.data)
                    self.drop_late(selector)
            finally:
                for connection in list(self.arriving.values()):
                    self.forget(selector, connection)
                    self.close(connection)
                self.front_stopped.set()

    def shutdown(self) -> None:
        """Stop the front and wait until it has stopped (called from another thread)."""
        self.stopping.set()
        self.front_stopped.wait()

    def accept_some(self, selector: selectors.BaseSelector) -> None:
        """Accept up to a quarter of max_arriving of the connections waiting in the listen
        backlog. Not all: a connection accepted in one round is read in the next, so a client
        whose request is complete is queued long before a burst of newer ones could make it
        the oldest arriving, the one closed to make room."""
        for _ in range(max(1, self.max_arriving // 4)):
            try:
                sock, address = self.socket.accept()
            except BlockingIOError:
                return
            except OSError as error:  # out of file descriptors: free the oldest
                if error.errno not in (errno.EMFILE, errno.ENFILE) or not self.arriving:
                    return
                self.drop_oldest(selector)
                continue
            if len(self.arriving) >= self.max_arriving:
                self.drop_oldest(selector)
            sock.setblocking(False)
            connection = Connection(sock, address, time.monotonic() + self.request_timeout)
            self.arriving[connection.number] = connection
            selector.register(sock, selectors.EVENT_READ, connection)

    def read_safely(self, selector: selectors.BaseSelector, connection: Connection) -> None:
        """read_more, and if a bug shows there, log it and close that connection: the front
        answers for every client, so nothing one of them sends may stop it."""
        try:
            self.read_more(selector, connection)
        except Exception:  # noqa: BLE001 (handle_error logs it; the front carries on)
            self.handle_error(connection.sock, connection.address)
            if self.arriving.get(connection.number) is connection:
                self.forget(selector, connection)
            self.close(connection)

    def read_more(self, selector: selectors.BaseSelector, connection: Connection) -> None:
        """Read what has arrived on a connection; queue its request once it is complete."""
        try:
            chunk = connection.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:  # reset by the client: nobody to answer
            self.forget(selector, connection)
            self.close(connection)
            return
        if not chunk:  # the client has closed its side before its request was complete
            self.forget(selector, connection)
            if connection.data:  # it may still read a reply (a half-close)
                self.refuse(connection, HTTPStatus.BAD_REQUEST, ENDED_EARLY)
            else:
                self.close(connection)
            return
        connection.data += chunk
        self.hold(len(chunk))
        while self.held_bytes > self.max_held_bytes:  # the oldest make room, this one last
            if self.drop_oldest(selector) is connection:
                return
        if len(connection.data) > MAX_HEAD_BYTES and head_end(connection.data) is None:
            self.forget(selector, connection)
            self.refuse(connection, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, HEAD_TOO_LARGE)
        elif self.is_complete(connection):
            self.forget(selector, connection)
            self.queue_request(connection)

    def is_complete(self, connection: Connection) -> bool:
        """True once the connection holds its head and the body the head declares; a head
        the handler will refuse (no or a bad Content-Length, a GET) has no body to wait for."""
        if connection.body_start is None:
            end = head_end(connection.data)
            if end is None:
                return False
            connection.body_start = end
            _, _, header_lines = bytes(connection.data[:end]).partition(b"\n")
            try:
                headers = http.client.parse_headers(io.BytesIO(header_lines))
                connection.body_length = declared_body_length(headers, self.max_body_bytes)
            except (RequestError, http.client.HTTPException):
                connection.body_length = 0  # the handler refuses it from its head alone
        return len(connection.data) - connection.body_start >= connection.body_length

    def drop_late(self, selector: selectors.BaseSelector) -> None:
        """408 for every connection whose request has not arrived by its deadline (a
        slow-loris that sends a byte a second included); the oldest come first."""
        now = time.monotonic()
        while self.arriving:
            oldest = next(iter(self.arriving.values()))
            if now < oldest.deadline:
                return
            self.forget(selector, oldest)
            late = f"the request did not arrive within {self.request_timeout:g} s"
            self.refuse(oldest, HTTPStatus.REQUEST_TIMEOUT, late)

    def drop_oldest(self, selector: selectors.BaseSelector) -> Connection:
        """Close the connection whose request has been arriving the longest (503): a full
        front makes room for new clients rather than refusing them."""
        oldest = next(iter(self.arriving.values()))
        self.forget(selector, oldest)
        self.refuse(oldest, HTTPStatus.SERVICE_UNAVAILABLE, TOO_MANY_ARRIVING)
        return oldest

    def forget(self, selector: selectors.BaseSelector, connection: Connection) -> None:
        """The front stops reading this connection."""
        del self.arriving[connection.number]
        selector.unregister(connection.sock)

    def hold(self, count: int) -> None:
        """count more bytes of requests are held in memory (fewer, if negative)."""
        with self.counting:
            self.held_bytes += count

    def close(self, connection: Connection) -> None:
        """Free what the connection's request held, and close it."""
        self.hold(-len(connection.data))
        connection.data = bytearray()
        self.shutdown_request(connection.sock)

    def queue_request(self, connection: Connection) -> None:
        """A complete request goes to the workers; beyond their capacity (being answered
        and waiting), 503 at once."""
        with self.counting:
            taken = self.taken < self.capacity
            self.taken += taken
        if taken:
            self.waiting.put(connection)
        else:
            self.refuse(connection, HTTPStatus.SERVICE_UNAVAILABLE, BUSY)

    def refuse(self, connection: Connection, status: HTTPStatus, message: str) -> None:
        """Answer status with message and close, without a worker and without waiting: the
        reply is short enough for the socket's buffer. What has arrived is read first:
        closing a socket with unread data resets it, and the client might lose the reply."""
        sock = connection.sock
        with contextlib.suppress(OSError):
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.recv(65536)
            sock.send(json_bytes(status, {"error": message}))
        self.close(connection)

    # -- the workers --------------------------------------------------------------

    def work(self) -> None:
        """A worker: answer queued requests one at a time, until the server closes."""
        while (connection := self.waiting.get()) is not None:
            try:
                if time.monotonic() >= connection.deadline:  # waited in the queue too long
                    self.refuse(connection, HTTPStatus.SERVICE_UNAVAILABLE, TOO_LATE)
                else:
                    connection.sock.setblocking(True)
                    self.finish_request(connection, connection.address)
            except Exception:  # noqa: BLE001 (handle_error logs it; the worker carries on)
                self.handle_error(connection.sock, connection.address)
            finally:
                with self.counting:
                    self.taken -= 1
                self.close(connection)

    def finish_request(self, connection: Connection, client_address) -> None:
        self.RequestHandlerClass(connection, client_address, self)

    def server_close(self) -> None:
        """Stop listening, close the queued connections, and stop the workers once the
        requests being answered are done."""
        super().server_close()
        with contextlib.suppress(queue.Empty):
            while True:
                self.close(self.waiting.get_nowait())
        for _ in self.workers:
            self.waiting.put(None)
        for thread in self.workers:
            thread.join(timeout=self.request_timeout + 2)

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
        self.request_bytes = connection.data  # the whole request: the front has read it
        super().__init__(connection.sock, client_address, server)

    def setup(self) -> None:
        # Writing is bounded by a socket timeout: a client that never reads our reply.
        self.timeout = self.server.request_timeout + 1
        super().setup()
        self.rfile = io.BytesIO(self.request_bytes)  # reading never waits on the client

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
        """http.server's parsing, then the Host and Origin checks."""
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
        length = declared_body_length(self.headers, self.max_body_bytes)
        if length == 0:
            raise RequestError(HTTPStatus.BAD_REQUEST, self.empty_body_message)
        return self.rfile.read(length)  # all there: the front waited for it
