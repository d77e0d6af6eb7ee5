"""A flood of stalled connections against the drawing page (issue #29, item 9): what a good
client gets meanwhile, and what the server holds.

    .venv/bin/python benchmarks/bench_flood.py [--clients 20] [--keep 20] [--seconds 8]

Starts the real command, `python src/use_network.py draw --no-browser --port 0 --model M`, in
a process of its own (--repo: another checkout's, to compare). Then for --seconds, --clients
threads each open connection after connection with a half-sent POST /predict (its headers and
100 of the 5,000 body bytes they declare; the rest never comes), keeping their latest --keep
open; meanwhile a good client posts a drawn digit every 0.1 s. Prints the stalled connections
opened, the good requests' statuses and waits (median and slowest), and the server's resident
memory (the peak of samples from /proc, 20 a second) and the most files it had open.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import io
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def drawn_digit() -> bytes:
    """A 280x280 canvas with a "1" drawn on it, as PNG: what the page sends."""
    canvas = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(canvas).line([(140, 50), (140, 230)], fill="black", width=20)
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def flood(port: int, keep: int, stopping: threading.Event, opened: list) -> None:
    """One stalled client: half-sent requests, the latest `keep` held open."""
    half_sent = (
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n" + bytes(100)
    )
    held: collections.deque[socket.socket] = collections.deque()
    while not stopping.is_set():
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(half_sent)
        except OSError:  # refused or reset: the server shed it
            continue
        opened.append(1)
        held.append(sock)
        if len(held) > keep:
            held.popleft().close()
    for sock in held:
        sock.close()


def good_request(port: int, body: bytes) -> tuple[int | str, float, float]:
    """(status, or the error's name; seconds to connect; seconds in all) of a POST /predict."""
    start = time.perf_counter()
    connected = start
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.connect()  # a dropped SYN (a full listen backlog) costs 1 s here
        connected = time.perf_counter()
        connection.request("POST", "/predict", body=body)
        status: int | str = connection.getresponse().status
    except OSError as error:
        status = type(error).__name__
    finally:
        connection.close()
    return status, connected - start, time.perf_counter() - start


def sample_server(pid: int, stopping: threading.Event, peaks: dict) -> None:
    """The server's resident memory (kB) and open files, 20 times a second: the peaks."""
    while not stopping.wait(0.05):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            files = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            return
        rss = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        peaks["rss_kb"] = max(peaks.get("rss_kb", 0), rss)
        peaks["files"] = max(peaks.get("files", 0), files)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--keep", type=int, default=20, help="connections each client holds")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "mnist_mlp.npz")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose server runs")
    args = parser.parse_args()
    if not args.model.is_file():
        parser.error(f"no model at {args.model}; train one: python src/NN_Numpy.py")
    command = [sys.executable, str(args.repo / "src" / "use_network.py"), "draw"]
    command += ["--no-browser", "--port", "0", "--model", str(args.model)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip()  # the first line is the page's address
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        body = drawn_digit()
        quiet = [good_request(port, body)[2] for _ in range(10)]
        stopping, opened, peaks = threading.Event(), [], {}
        threads = [
            threading.Thread(target=flood, args=(port, args.keep, stopping, opened), daemon=True)
            for _ in range(args.clients)
        ]
        threads.append(threading.Thread(target=sample_server, args=(server.pid, stopping, peaks)))
        cpu_before = cpu_seconds(server.pid)
        for thread in threads:
            thread.start()
        answers = []
        end = time.perf_counter() + args.seconds
        time.sleep(0.5)  # the flood is on
        while time.perf_counter() < end:
            answers.append(good_request(port, body))
            time.sleep(0.1)
        stopping.set()
        for thread in threads:
            thread.join(timeout=10)
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(10)
    statuses = collections.Counter(status for status, _, _ in answers)
    waits = [seconds for _, _, seconds in answers]
    connects = [seconds for _, seconds, _ in answers]
    print(f"server: {args.repo}")
    print(f"quiet: a good request answered in {statistics.median(quiet) * 1000:.1f} ms (median)")
    print(
        f"flood: {args.clients} clients opened {len(opened):,} stalled connections in "
        f"{args.seconds:g} s, holding up to {args.clients * args.keep:,} at once"
    )
    print(
        f"good requests under the flood: {len(answers)}, statuses {dict(statuses)}, "
        f"wait median {statistics.median(waits) * 1000:.1f} ms, "
        f"90th percentile {statistics.quantiles(waits, n=10)[-1] * 1000:.1f} ms, "
        f"slowest {max(waits) * 1000:.1f} ms (of which connecting: median "
        f"{statistics.median(connects) * 1000:.1f} ms, slowest {max(connects) * 1000:.1f} ms)"
    )
    print(
        f"server at most: {peaks.get('rss_kb', 0) / 1024:.1f} MiB resident, "
        f"{peaks.get('files', 0):,} files open; {cpu:.1f} s of CPU in the flood's "
        f"{args.seconds:g} s ({cpu / max(len(opened), 1) * 1e6:.0f} us a stalled connection)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
