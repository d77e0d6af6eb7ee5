"""python src/use_network.py watch: train and watch it live, from the command line."""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import get_json, wait_until

import NN_Numpy as nn
from pages import watch_training as wt

# ---------------------------------------------------------------------------
# The command line: python src/use_network.py watch [training options]
# ---------------------------------------------------------------------------

USE_NETWORK = Path(nn.__file__).parent / "use_network.py"


def start_watch(tmp_path, *options):
    """use_network.py watch on a free port, training 3,000 rows; returns (process, port)."""
    command = [sys.executable, str(USE_NETWORK), "watch", "--limit", "3000", "--no-plots"]
    command += ["--port", "0", "--no-browser", "--model", str(tmp_path / "model.npz"), *options]
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    url = process.stdout.readline().strip()  # the first line printed
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/", url)
    if not match:
        process.kill()
        raise AssertionError(url + process.communicate()[1])
    return process, int(match[1])


def test_stop_saves_a_loadable_model_whose_record_says_so(tmp_path):
    process, port = start_watch(tmp_path, "--epochs", "300", "--learning-rate", "0.05")
    try:
        wait_until(lambda: get_json(port, "/state")[1]["epoch"] >= 2, timeout=60)
        epoch = get_json(port, "/control", "POST", b'{"action": "pause"}')[1]["epoch"]
        get_json(port, "/control", "POST", b'{"learning_rate": 0.02}')
        get_json(port, "/control", "POST", b'{"action": "epoch"}')
        wait_until(lambda: get_json(port, "/state")[1]["epoch"] > epoch)
        status, state = get_json(port, "/control", "POST", b'{"action": "stop"}')
        assert status == 200 and state["stopping"]
        wait_until(lambda: get_json(port, "/state")[1]["finished"], timeout=60)
        state = get_json(port, "/state")[1]
        assert "stopped early" in state["message"]
        assert (tmp_path / "model.npz").is_file()  # saved, while the page stays up
        assert get_json(port, "/control", "POST", b'{"action": "resume"}')[0] == 400
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err
    assert "Training over; the page stays up" in out
    network = nn.NeuralNetwork.load(tmp_path / "model.npz")
    record = network.record
    epochs_done = len(record["history"])
    assert 3 <= epochs_done < 300 and record["stopped_early"] == {"epochs_done": epochs_done}
    controls = record["controls"]
    assert [c.get("learning_rate", c.get("action")) for c in controls] == [
        "pause",
        0.02,
        "epoch",
        "stop",
    ]
    assert controls[1]["epoch"] >= 2 and controls[1]["batches_done"] > 0
    assert record["command"][2:] == ["--limit", "3000", "--no-plots"] + [
        "--model",
        str(tmp_path / "model.npz"),
        "--epochs",
        "300",
        "--learning-rate",
        "0.05",
    ]  # the training's own options: NN_Numpy.py takes them as they are
    assert record["settings"]["learning_rate"] == 0.05
    assert record["metrics"]["accuracy"] > 0.8


@pytest.mark.parametrize("paused", [False, True])
def test_ctrl_c_while_training_stops_cleanly_and_saves_nothing(tmp_path, paused):
    process, port = start_watch(tmp_path, "--epochs", "300")
    try:
        wait_until(lambda: get_json(port, "/state")[1]["batches_done"] > 0, timeout=60)
        if paused:  # the training thread waits in the hook
            get_json(port, "/control", "POST", b'{"action": "pause"}')
            wait_until(lambda: get_json(port, "/state")[1]["held"])
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert not (tmp_path / "model.npz").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


def test_a_port_in_use_is_one_line(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = wt.main(["--port", str(port), "--no-browser", "--model", str(tmp_path / "m.npz")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot serve on 127.0.0.1:{port}: ") and err.count("\n") == 1
    assert err.rstrip().endswith("try another --port")


# Issue #29, items 1 and 3: a divergence on the page, and a stop before any epoch ended


def test_a_divergence_is_said_and_stop_saves_the_last_finite_snapshot(tmp_path):
    process, port = start_watch(tmp_path, "--epochs", "300")
    try:
        wait_until(lambda: get_json(port, "/state")[1]["epoch"] >= 1, timeout=60)
        get_json(port, "/control", "POST", b'{"action": "pause"}')
        wait_until(lambda: get_json(port, "/state")[1]["held"])
        get_json(port, "/control", "POST", b'{"learning_rate": 1e308}')
        get_json(port, "/control", "POST", b'{"action": "step"}')
        wait_until(lambda: "diverged" in get_json(port, "/state")[1]["message"])
        said = get_json(port, "/state")[1]["message"]
        batch = int(re.search(r"from batch ([0-9,]+)$", said)[1].replace(",", ""))
        assert get_json(port, "/control", "POST", b'{"action": "stop"}')[0] == 200
        wait_until(lambda: get_json(port, "/state")[1]["finished"], timeout=60)
        model = tmp_path / "model.npz"
        assert get_json(port, "/state")[1]["message"] == (
            f"stopped after the divergence; the last finite snapshot (batch {batch:,}) was "
            f"saved to {model}"
        )
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err
    network = nn.NeuralNetwork.load(model)
    assert all(np.isfinite(p).all() for p in network.parameters())
    assert network.record["diverged"] == said
    assert network.record["metrics"]["accuracy"] > 0.5  # the snapshot learned something


def test_stop_before_the_first_epoch_ends_saves_nothing_and_says_so(tmp_path):
    process, port = start_watch(tmp_path, "--epochs", "3")
    try:
        assert get_json(port, "/control", "POST", b'{"action": "stop"}')[0] == 200
        wait_until(lambda: get_json(port, "/state")[1]["finished"], timeout=60)
        message = get_json(port, "/state")[1]["message"]
        assert message == "stopped before the first epoch ended; no model was saved"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1 and "Traceback" not in err, err
    assert err.splitlines()[0] == (
        "error: the training was stopped before its first epoch ended: nothing was learned. "
        "No model was saved."
    )
    assert not (tmp_path / "model.npz").exists()
