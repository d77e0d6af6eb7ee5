"""NN_Numpy.py: the training hook, told of every step, can pause, change the rate, stop."""

import threading
import time

import numpy as np
import pytest

import NN_Numpy as nn
from learning import command_line

# 1,000 rows: 10 batches an epoch (no made-up non-digits added to them: --negatives 0)
CONFIG = nn.TrainConfig(epochs=3, batch_size=100, negatives=0.0, seed=0)


def data(small_split):
    X_train, y_train, X_val, y_val = small_split
    return X_train[:1000], y_train[:1000], X_val[:200], y_val[:200]


class Recorder(nn.TrainingHook):
    def __init__(self):
        self.batches, self.epochs = [], []

    def batch_done(self, images, labels, loss, network, optimizer):
        hidden = network.layers[0].output  # (B, 128): this batch's first-layer outputs
        self.batches.append(
            dict(
                images=images.shape,
                labels=labels.copy(),
                loss=loss,
                dead_share=float((hidden == 0).mean()),
                grad_norm=float(np.abs(network.layers[0].grad_weights).sum()),
                learning_rate=optimizer.learning_rate,
            )
        )

    def epoch_done(self, stats, network, optimizer):
        self.epochs.append(stats)


def test_the_hook_is_told_of_every_batch_and_epoch(small_split):
    X_train, y_train, X_val, y_val = data(small_split)
    hook = Recorder()
    history = nn.train(nn.NeuralNetwork(), X_train, y_train, X_val, y_val, CONFIG, print, hook)
    assert len(hook.batches) == 30 and hook.epochs == history
    assert all(b["images"] == (100, 784) for b in hook.batches)
    assert sorted(np.concatenate([b["labels"] for b in hook.batches[:10]])) == sorted(y_train)
    assert all(0 < b["dead_share"] < 1 and b["grad_norm"] > 0 for b in hook.batches)
    epoch_loss = np.mean([b["loss"] for b in hook.batches[:10]])
    assert history[0]["loss"] == pytest.approx(epoch_loss)


def test_a_hook_changes_nothing_about_the_numbers(small_split):
    X_train, y_train, X_val, y_val = data(small_split)
    plain, watched = nn.NeuralNetwork(), nn.NeuralNetwork()
    quiet = lambda line: None  # noqa: E731
    history = nn.train(plain, X_train, y_train, X_val, y_val, CONFIG, quiet)
    history_watched = nn.train(watched, X_train, y_train, X_val, y_val, CONFIG, quiet, Recorder())
    assert [h["loss"] for h in history] == [h["loss"] for h in history_watched]
    for a, b in zip(plain.parameters(), watched.parameters()):
        np.testing.assert_array_equal(a, b)


def test_a_hook_can_pause_training(small_split):
    X_train, y_train, X_val, y_val = data(small_split)
    resume, paused = threading.Event(), threading.Event()

    class Pausing(Recorder):
        def batch_done(self, *args):
            super().batch_done(*args)
            if len(self.batches) == 3:
                paused.set()
                resume.wait()  # blocks training, as a page's pause button would

    hook = Pausing()
    config = nn.TrainConfig(epochs=1, batch_size=100, negatives=0.0)  # 10 batches
    args = (nn.NeuralNetwork(), X_train, y_train, X_val, y_val, config, lambda line: None, hook)
    trainer = threading.Thread(target=nn.train, args=args)
    trainer.start()
    assert paused.wait(60)
    time.sleep(0.3)
    assert len(hook.batches) == 3 and not hook.epochs  # nothing moved while paused
    resume.set()
    trainer.join(60)
    assert len(hook.batches) == 10 and len(hook.epochs) == 1


def test_a_learning_rate_set_by_the_hook_applies_from_the_next_batch(small_split):
    X_train, y_train, X_val, y_val = data(small_split)
    network = nn.NeuralNetwork()
    snapshots = []

    class Freezing(Recorder):
        def batch_done(self, images, labels, loss, network, optimizer):
            super().batch_done(images, labels, loss, network, optimizer)
            snapshots.append([p.copy() for p in network.parameters()])
            if len(self.batches) == 4:
                optimizer.learning_rate = 0.0  # from batch 5 on, no parameter moves

    config = nn.TrainConfig(epochs=2, batch_size=100, momentum=0.0, weight_decay=0.0)
    hook = Freezing()
    history = nn.train(network, X_train, y_train, X_val, y_val, config, lambda line: None, hook)
    assert not np.array_equal(snapshots[2][0], snapshots[3][0])  # batch 4 still moved
    for later in snapshots[4:]:
        for a, b in zip(snapshots[3], later):
            np.testing.assert_array_equal(a, b)
    assert history[1]["learning_rate"] == 0.0  # the schedule goes on from the new value


def test_the_schedule_continues_from_a_rate_the_hook_set(small_split):
    X_train, y_train, X_val, y_val = data(small_split)

    class Halving(nn.TrainingHook):
        def epoch_done(self, stats, network, optimizer):
            if stats["epoch"] == 1:
                optimizer.learning_rate = stats["learning_rate"] / 2

    config = nn.TrainConfig(epochs=4, batch_size=100)
    history = nn.train(
        nn.NeuralNetwork(), X_train, y_train, X_val, y_val, config, lambda line: None, Halving()
    )
    rates = [h["learning_rate"] for h in history]
    expected = [nn.learning_rate_at(e, config) * (0.5 if e else 1) for e in range(4)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


def test_stop_training_returns_the_history_so_far(small_split):
    X_train, y_train, X_val, y_val = data(small_split)
    lines = []

    class Stopping(Recorder):
        def batch_done(self, *args):
            super().batch_done(*args)
            if len(self.batches) == 15:  # half way through epoch 2
                raise nn.StopTraining

    hook = Stopping()
    history = nn.train(
        nn.NeuralNetwork(), X_train, y_train, X_val, y_val, CONFIG, lines.append, hook
    )
    assert len(history) == 1 and len(hook.batches) == 15
    assert lines[-1] == "Stopped early: 1 of 3 epochs done"


def test_a_run_stopped_early_still_saves_its_model_and_says_so(tmp_path, capsys):
    class StopAfterOneEpoch(nn.TrainingHook):
        def epoch_done(self, stats, network, optimizer):
            raise nn.StopTraining

    argv = ["--limit", "1000", "--epochs", "5", "--model", str(tmp_path / "m.npz")]
    argv += ["--figures-dir", str(tmp_path)]
    args = command_line.build_parser(nn.fields(nn.TrainConfig)).parse_args(argv)
    config = nn.TrainConfig(limit=1000, epochs=5)
    assert nn.run_training(config, args, argv, hook=StopAfterOneEpoch()) == 0
    record = nn.NeuralNetwork.load(tmp_path / "m.npz").record
    assert record["stopped_early"] == {"epochs_done": 1} and len(record["history"]) == 1
    assert "Validation Accuracy: " in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m.npz",
        "predictions.png",
        "training_curves.png",
    ]


def test_the_hook_is_told_of_the_start_before_the_first_batch(small_split):
    calls = []
    start = nn.NeuralNetwork(seed=0).layers[0].weights.copy()

    class Spy(nn.TrainingHook):
        def train_started(self, network, X_train, y_train, X_val, y_val):
            calls.append("start")
            np.testing.assert_array_equal(network.layers[0].weights, start)  # not trained yet
            assert X_train is not None and len(X_val) == len(y_val) == 1000

        def batch_done(self, images, labels, loss, network, optimizer):
            calls.append("batch")

    config = nn.TrainConfig(epochs=1, batch_size=1000, negatives=0.0)
    nn.train(nn.NeuralNetwork(seed=0), *small_split, config, lambda line: None, Spy())
    assert calls == ["start", "batch", "batch", "batch", "batch"]
