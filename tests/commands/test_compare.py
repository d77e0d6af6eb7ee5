"""python src/use_network.py compare: the lessons, the variants, bad input, a whole run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, canvas_png, ctrl_c_as_in_a_terminal, one_error_line

import NN_Numpy as nn
import use_network as un
from using import experiments as ex


def test_help_lists_every_lesson_with_what_to_look_for(capsys):
    with pytest.raises(SystemExit) as info:
        un.main(["compare", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name, lesson in ex.LESSONS.items():
        assert f"  {name}: {lesson.title}: " in out
        assert f"    look for: {lesson.look_for}" in out
    assert "--variant" in out and "--no-page" in out
    with pytest.raises(SystemExit):
        un.main(["--help"])
    assert "compare" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nope"], "no lesson 'nope'; the lessons: relu-vs-sigmoid, he-vs-zero, "),
        (["--variant", "--deskew"], "a comparison needs 2 to 6 variants, got 1"),
        ([], "a comparison needs 2 to 6 variants, got 0"),
        (
            ["--variant", "--activation tanh", "--variant", ""],
            "variant A (--activation tanh): argument --activation: invalid choice: 'tanh'",
        ),
        (["--variant", "--init=zero", "--variant"], "--variant needs its options"),
        (["relu-vs-sigmoid", "--epochs", "0"], "the options for every variant (--epochs 0): "),
        (["relu-vs-sigmoid", "--variant", ""], "give a lesson or --variant options, not both"),
        (["momentum", "--port", "70000"], "--port must be 0-65535, got 70000"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, argv, message):
    lesson = argv[:1] if argv and not argv[0].startswith("-") else []  # a lesson comes first
    rest = argv[len(lesson) :]
    status = un.main(["compare", *lesson, "--models-dir", str(tmp_path), "--no-page", *rest])
    assert status == 2
    line = one_error_line(capsys)
    assert line.startswith(f"use_network.py compare: error: {message}"), line
    assert list(tmp_path.iterdir()) == []


def test_a_lesson_end_to_end_saves_models_that_predict_and_report_read(tmp_path, capsys):
    models = tmp_path / "models"
    argv = ["compare", "hidden-sizes", "--epochs", "1", "--limit", "500", "--no-page"]
    argv += ["--models-dir", str(models), "--handwriting", str(tmp_path / "absent")]
    assert un.main(argv) == 0
    out = capsys.readouterr().out
    small = models / "compare-hidden-sizes-B-32-16.npz"
    assert sorted(p.name for p in models.iterdir()) == [
        "compare-hidden-sizes-A-128-64.npz",
        small.name,
    ]
    assert "B 32-16: Network: 784-32-16-10, 25,818 parameters" in out
    assert "B 32-16: Epoch 1/1, Loss: " in out
    assert f"Results (no handwriting set at {tmp_path / 'absent'}: not scored" in out
    accuracy = nn.NeuralNetwork.load(small).record["metrics"]["accuracy"]
    assert f"  B 32-16: validation {100 * accuracy:.2f}%; saved to {small}" in out
    image = tmp_path / "digit.png"
    image.write_bytes(canvas_png())
    for model in models.iterdir():
        assert un.main(["predict", str(image), "--model", str(model)]) == 0
    record = nn.NeuralNetwork.load(small).record
    assert record["command"][2:6] == ["--epochs", "1", "--limit", "500"]
    assert record["settings"]["hidden"] == [32, 16]
    figures = tmp_path / "figures"
    assert un.main(["report", "--model", str(small), "--figures-dir", str(figures)]) == 0
    out = capsys.readouterr().out
    assert "hidden=[32, 16]" in out and "(at training time: " in out
    assert (figures / "first_layer_weights.png").is_file()


def children(pid: int) -> dict[int, str]:
    """The processes pid started, still running or not yet reaped: {pid: command line}."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after "pid (name)"
            if int(fields[1]) == pid:
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found[int(stat.parent.name)] = command.decode()
        except (OSError, ValueError, IndexError):  # gone meanwhile
            pass
    return found


def running(pid: int) -> bool:
    """Neither gone nor a zombie (ended, its parent gone before reaping it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("who", ["the terminal's Ctrl-C, to all", "SIGINT to the command alone"])
def test_ctrl_c_while_they_train_stops_them_all_saves_nothing_and_exits_130(tmp_path, who):
    models = tmp_path / "models"
    argv = ["compare", "relu-vs-sigmoid", "--epochs", "500", "--limit", "2000", "--no-page"]
    argv += ["--models-dir", str(models), "--handwriting", str(tmp_path / "absent")]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "src" / "use_network.py"), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        training = set()  # the variants that have finished an epoch (500 take a minute)
        while len(training) < 2:
            line = process.stdout.readline()
            assert line, process.communicate(timeout=30)
            name, _, text = line.partition(": ")
            if text.startswith("Epoch 1/500"):
                training.add(name)
        variants = [pid for pid, command in children(process.pid).items() if "spawn" in command]
        assert len(variants) == 2, children(process.pid)
        started = children(process.pid)  # the variants, and multiprocessing's resource tracker
        if who.startswith("the terminal"):
            os.killpg(process.pid, signal.SIGINT)  # its process group: every process of it
        else:
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)  # a loaded 2-core CI machine is slow
    finally:
        process.kill()
    assert process.returncode == 130
    assert err == "\ninterrupted: nothing was saved from the unfinished step\n"
    assert "Traceback" not in out and "Results" not in out
    assert not models.exists() or list(models.iterdir()) == []  # no model, no temporary file
    deadline = time.monotonic() + 10
    while any(map(running, started)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(running, started)), started
