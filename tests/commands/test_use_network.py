"""src/use_network.py, the command table: options checked before any command runs."""

import pytest

import use_network as un

# Issue #12, item 8: nothing a user can type gives a traceback


@pytest.mark.parametrize(
    "argv, message",
    [
        (["gradcheck", "--seed", "-1"], "--seed must be 0 to 2**32 - 1, got -1"),
        (["gradcheck", "--entries", "0"], "--entries must be >= 1, got 0"),
        (["explain", "--batch-size", "100000"], "--batch-size must be 1-10000, got 100000"),
        (["explain", "--seed", str(2**32)], "--seed must be 0 to 2**32 - 1, got 4294967296"),
        (["draw", "--port", "70000"], "--port must be 0-65535, got 70000"),
        (["draw", "--port", "-1"], "--port must be 0-65535, got -1"),
        (["draw", "--threshold", "nan"], "--threshold must be 0-1, got nan"),
        (["draw", "--threshold", "1.5"], "--threshold must be 0-1, got 1.5"),
        (["draw", "--threshold", "inf"], "--threshold must be 0-1, got inf"),
    ],
)
def test_companion_options_out_of_range_are_refused_before_anything_runs(argv, message, capsys):
    # Checked at parse time, like the trainer's options: --port 70000 used to end in an
    # OverflowError traceback, and --threshold nan made a 99%-sure digit read "not sure".
    with pytest.raises(SystemExit) as info:
        un.main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"use_network.py: error: {message}"
