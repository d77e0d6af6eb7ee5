"""references/backprop.md: the math note names and quotes NN_Numpy.py's real code."""

import re
from pathlib import Path

from conftest import ROOT

import NN_Numpy as nn
import use_network as un
from using import math_checks


def test_math_note_names_only_code_that_exists():
    note = (ROOT / "references" / "backprop.md").read_text()
    for name in re.findall(r"`(\w+)`", note):
        if (
            name.islower() and "_" in name
        ):  # function and attribute names like relu_backward, grad_bias
            assert (
                hasattr(nn, name)
                or name in Path(nn.__file__).read_text()
                or any(hasattr(module, name) for module in (math_checks, un))
            ), name


def test_code_quoted_in_the_math_note_is_the_code():
    note = (ROOT / "references" / "backprop.md").read_text()
    source = {line.strip() for line in Path(nn.__file__).read_text().splitlines()}
    quoted = [
        line.strip()
        for block in re.findall(r"```python\n(.*?)```", note, re.S)
        for line in block.splitlines()
        if line.strip()
    ]
    assert quoted, "the note quotes no code any more: drop this test"
    for line in quoted:
        assert line in source, f"backprop.md quotes a line that is not in NN_Numpy.py: {line}"
