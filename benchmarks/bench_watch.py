"""What watching costs the training: the same short training three ways, interleaved, at one
BLAS thread, in one process.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_watch.py [--rounds 9] [--epochs 5]

plain:        train() with the hook that does nothing, as python src/NN_Numpy.py runs it
page closed:  train() with watch_training's hook and its page server up, nobody looking
page open:    the same with the page open in headless Chromium (it asks for /state twice a
              second and for the weights and images at most once, and draws every chart;
              once an epoch it asks for the points map, issue #27)
page open, no map: the same page with its points map switched off (the page as it was
              before the map: what the map alone costs is the difference)

With --pollers N (issue #29): instead, batches trained in --seconds with the page served
and nobody polling, against N client processes each looping on GET /state and GET /weights
as fast as they are answered (the training must keep at least 2/3 of its quiet speed).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_watch.py --pollers 16

For each: train()'s wall time (the epochs and their evaluation), and the CPU time of this
process (the training, its distortion thread and the server's threads). Chromium's own CPU
time is counted apart, from /proc: on a machine with a spare core it costs the training
nothing; on a busy one it competes. Medians over the rounds. Then the points map's own
work, done by a server thread once an epoch while the page is open (the forward pass of its
1,000 digits and a PCA per layer): the median time of one epoch's, and of the first (which
loads scikit-learn's PCA and SciPy and fits the pixels' map, the same every epoch after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
import NN_Numpy as nn
from pages import watch_map
from pages import watch_training as wt

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WAYS = ["plain", "page closed", "page open", "page open, no map"]


def browser():
    """Headless Chromium driven by Selenium (as the tests' browser fixture, tests/conftest.py)."""
    os.environ["SE_OFFLINE"] = "true"  # never download a browser or driver
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(options=options, service=service)


def cpu_seconds_below(root: int) -> float:
    """CPU seconds (user + system) of every process descending from root, from /proc."""
    stats, children = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # it ended meanwhile
                continue
            stats[int(name)] = fields
            children.setdefault(int(fields[1]), []).append(int(name))  # fields[1]: parent
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += (int(stats[pid][11]) + int(stats[pid][12])) / os.sysconf("SC_CLK_TCK")
        todo += children.get(pid, [])
    return total


class TimedLiveMap(watch_map.LiveMap):
    """The page's points map, timing each epoch's projection (in the server's threads)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, float]] = []  # (wall, CPU of its thread) per projection

    def maps(self) -> dict:
        with self.lock:
            fresh = self.computed is None or self.computed["epoch"] != self.epoch
        start, cpu = time.perf_counter(), time.thread_time()
        maps = super().maps()
        if fresh:
            self.times.append((time.perf_counter() - start, time.thread_time() - cpu))
        return maps


class TimedWatch(wt.TrainingWatch):
    """The page's hook, timing itself: the training thread's own cost of being watched."""

    seconds = 0.0

    def __init__(self, config) -> None:
        super().__init__(config)
        self.live_map = TimedLiveMap()

    def timed(self, method, *args) -> None:
        start = time.perf_counter()
        method(*args)
        self.seconds += time.perf_counter() - start

    def train_started(self, *args) -> None:
        self.timed(super().train_started, *args)

    def batch_done(self, *args) -> None:
        self.timed(super().batch_done, *args)

    def epoch_done(self, *args) -> None:
        self.timed(super().epoch_done, *args)


def train_once(way: str, split, config, driver, map_times: list) -> tuple[float, ...]:
    """(wall seconds, this process's CPU seconds, Chromium's CPU seconds, seconds in the hook)
    of one training; the points map's times per projection appended to map_times."""
    hook = nn.TrainingHook() if way == "plain" else TimedWatch(config)
    server = None
    if way != "plain":
        server = wt.WatchServer(("127.0.0.1", 0), hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    if way.startswith("page open"):
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        if way.endswith("no map"):
            driver.execute_script("mapOff = true;")  # watch.js: asks for no more maps
    chromium = cpu_seconds_below(driver.service.process.pid)
    cpu = time.process_time()
    start = time.perf_counter()
    nn.train(nn.NeuralNetwork(seed=config.seed), *split, config, lambda line: None, hook)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    chromium = cpu_seconds_below(driver.service.process.pid) - chromium
    if way.startswith("page open"):
        driver.get("about:blank")
    if server is not None:
        server.shutdown()
        server.server_close()
        map_times += hook.live_map.times
    return wall, cpu, chromium, getattr(hook, "seconds", 0.0)


POLLER = """
import http.client, sys
port = int(sys.argv[1])
while True:
    for path in ("/state", "/weights"):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
        except OSError:
            pass
"""


def batches_polled(split, pollers: int, seconds: float) -> int:
    """Batches trained in `seconds` with the page served and `pollers` client processes."""
    config = nn.TrainConfig(epochs=1000)
    watch = wt.TrainingWatch(config)
    server = wt.WatchServer(("127.0.0.1", 0), watch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = str(server.server_address[1])
    thread = threading.Thread(
        target=nn.train,
        args=(nn.NeuralNetwork(seed=0), *split, config, lambda line: None, watch),
        daemon=True,
    )
    thread.start()
    while not watch.state()["started"]:
        time.sleep(0.01)
    clients = [subprocess.Popen([sys.executable, "-c", POLLER, port]) for _ in range(pollers)]
    try:
        start = watch.state()["batches_done"]
        time.sleep(seconds)
        trained = watch.state()["batches_done"] - start
    finally:
        for client in clients:
            client.kill()
            client.wait()
        watch.control({"action": "stop"})
        thread.join(30)
        server.shutdown()
        server.server_close()
    return trained


def main_pollers(args) -> None:
    data = nn.load_split(None, nn.TrainConfig())
    split = (data["X_train"], data["y_train"], data["X_val"], data["y_val"])
    runs: dict[int, list[int]] = {0: [], args.pollers: []}
    with threadpool_limits(1, user_api="blas"):
        for round_ in range(args.rounds):
            for pollers in [0, args.pollers][:: 1 if round_ % 2 == 0 else -1]:
                runs[pollers].append(batches_polled(split, pollers, args.seconds))
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"{n} pollers {runs[n][-1]} batches" for n in runs),
                flush=True,
            )
    quiet = statistics.median(runs[0])
    polled = statistics.median(runs[args.pollers])
    print(f"\nbatches trained in {args.seconds:g} s, 1 BLAS thread, medians of {args.rounds}:")
    print(f"quiet page: {quiet:.0f}; {args.pollers} pollers: {polled:.0f} ({polled / quiet:.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--pollers", type=int, default=0, help="measure N polling clients")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    if args.pollers:
        main_pollers(args)
        return
    config = nn.TrainConfig(epochs=args.epochs)
    data = nn.load_split(None, config)
    split = (data["X_train"], data["y_train"], data["X_val"], data["y_val"])
    runs: dict[str, list[tuple[float, ...]]] = {way: [] for way in WAYS}
    map_times: list[tuple[float, float]] = []
    driver = browser()
    try:
        with threadpool_limits(1, user_api="blas"):
            for round_ in range(args.rounds):
                turn = round_ % len(WAYS)
                for way in WAYS[turn:] + WAYS[:turn]:  # each goes first in turn
                    runs[way].append(train_once(way, split, config, driver, map_times))
                walls = ", ".join(f"{way} {runs[way][-1][0]:.2f} s" for way in WAYS)
                print(f"round {round_ + 1}: {walls}", flush=True)
    finally:
        driver.quit()

    def median(way: str, column: int) -> float:
        return statistics.median(run[column] for run in runs[way])

    print(f"\n{args.epochs} epochs of the default recipe, 1 BLAS thread, {args.rounds} rounds:")
    print(
        "| run | train() wall s | against plain | process CPU s | against plain "
        "| in the hook | Chromium CPU s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for way in WAYS:
        wall, cpu, chromium, hook = (median(way, column) for column in range(4))
        wall_change = wall / median("plain", 0) - 1
        cpu_change = cpu / median("plain", 1) - 1
        print(
            f"| {way} | {wall:.2f} | {wall_change:+.1%} | {cpu:.2f} | {cpu_change:+.1%} "
            f"| {1000 * hook:.0f} ms ({hook / wall:.1%}) | {chromium:.2f} |"
        )

    if map_times:
        later = map_times[1:] or map_times
        wall, cpu = (1000 * statistics.median(t[column] for t in later) for column in (0, 1))
        print(
            f"\nThe points map, in a server thread: {len(map_times)} projections (one an epoch "
            f"while the page was open), median {wall:.0f} ms each ({cpu:.0f} ms of CPU); the "
            f"first, loading the libraries: {1000 * map_times[0][0]:.0f} ms "
            f"({1000 * map_times[0][1]:.0f} ms of CPU)"
        )


if __name__ == "__main__":
    main()
