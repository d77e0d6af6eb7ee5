"""What watching costs the training: the same short run three ways, interleaved, 1 BLAS thread.

    .venv/bin/python benchmarks/bench_watch.py [--rounds 5] [--epochs 5]

plain:       python src/NN_Numpy.py (the hook that does nothing)
page closed: python src/use_network.py watch, nobody looking
page open:   the same with the page open in headless Chromium (polling /state 4 times a second,
             fetching the weights when they change, drawing every chart), on this machine

Each figure is train()'s own time as the run record keeps it (metrics.seconds: the epochs and
their evaluation, not reading the data nor starting Python). Medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
import NN_Numpy as nn

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def browser():
    """Headless Chromium driven by Selenium (as in tests/test_draw.py)."""
    os.environ["SE_OFFLINE"] = "true"  # never download a browser or driver
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(options=options, service=service)


def seconds_trained(model: Path) -> float:
    return nn.NeuralNetwork.load(model).record["metrics"]["seconds"]


def run(way: str, options: list[str], folder: Path, driver) -> float:
    model = folder / f"{way.replace(' ', '_')}.npz"
    common = [*options, "--no-plots", "--model", str(model)]
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    if way == "plain":
        subprocess.run(
            [sys.executable, str(ROOT / "src" / "NN_Numpy.py"), *common],
            check=True,
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        return seconds_trained(model)
    command = [sys.executable, str(ROOT / "src" / "use_network.py"), "watch", *common]
    command += ["--port", "0", "--no-browser"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        if way == "page open":
            driver.get(url)
        for line in process.stdout:
            if line.startswith("Training over"):
                break
        if way == "page open":
            driver.get("about:blank")
        process.send_signal(signal.SIGINT)
        process.wait(30)
    finally:
        process.kill()
    return seconds_trained(model)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    options = ["--epochs", str(args.epochs)]
    ways = ["plain", "page closed", "page open"]
    times: dict[str, list[float]] = {way: [] for way in ways}
    driver = browser()
    try:
        with tempfile.TemporaryDirectory() as folder:
            for round_ in range(args.rounds):
                for way in ways[round_ % 3 :] + ways[: round_ % 3]:  # each goes first in turn
                    times[way].append(run(way, options, Path(folder), driver))
                print(
                    f"round {round_ + 1}: " + ", ".join(f"{w} {times[w][-1]:.2f} s" for w in ways)
                )
    finally:
        driver.quit()
    plain = statistics.median(times["plain"])
    print(f"\n{args.epochs} epochs, medians of {args.rounds} interleaved rounds, 1 BLAS thread:")
    print("| run | train() seconds | against plain |")
    print("| --- | --- | --- |")
    for way in ways:
        median = statistics.median(times[way])
        print(f"| {way} | {median:.2f} | {median / plain - 1:+.1%} |")


if __name__ == "__main__":
    main()
