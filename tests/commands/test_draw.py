"""python src/use_network.py draw: the drawing page's command line."""

import re
import signal
import socket
import subprocess
import sys

from conftest import ROOT, ctrl_c_as_in_a_terminal, request

import use_network as un

# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_command_line_prints_the_url_first_and_stops_cleanly_on_ctrl_c(trained, tmp_path):
    network = trained[0]
    model = tmp_path / "model.npz"
    network.save(model)
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "src" / "use_network.py"),
            "draw",
            "--model",
            str(model),
            "--threshold",
            "0.9",
            "--port",
            "0",
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        url = process.stdout.readline().strip()
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/", url)
        assert match, url
        status, _, body = request(int(match[1]), "GET", "/")
        assert status == 200 and b'id="canvas"' in body
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)  # a loaded 2-core CI machine is slow
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err and "Traceback" not in out


def test_command_line_refuses_a_missing_model(tmp_path):
    assert un.main(["draw", "--model", str(tmp_path / "none.npz"), "--no-browser"]) == 1


def test_command_line_on_a_taken_port_says_so_in_one_line(trained, tmp_path, capsys):
    trained[0].save(tmp_path / "model.npz")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["draw", "--model", str(tmp_path / "model.npz"), "--port", str(port)]
        assert un.main([*argv, "--no-browser"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: cannot serve on 127.0.0.1:{port}: Address already in use; try another --port"
    )
