"""The ten class names a run draws and prints: digits, Fashion-MNIST's, or --classes FILE.

A name is checked as text a terminal and a figure can show (no control characters, short); this
module reads only that small file, and decides nothing about the data.
"""

from __future__ import annotations

import unicodedata

from files.errors import InputError
from files.safe_reading import open_regular

DIGIT_NAMES = [str(digit) for digit in range(10)]

FASHION_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

MAX_NAME_LENGTH = 30  # a name is a caption in the figures

MAX_NAMES_BYTES = 4096  # 10 names of 30 characters, 4 bytes each at most in UTF-8, and more


def class_names(spec: str) -> list[str]:
    """--classes: "digits", "fashion", or a UTF-8 file of 10 names, one per line. The file is
    read as every input is: a regular file (a pipe would block, /dev/zero never end), at most
    MAX_NAMES_BYTES, then parsed."""
    if spec in ("digits", "fashion"):
        return list(DIGIT_NAMES if spec == "digits" else FASHION_NAMES)
    refused = f"--classes {spec}: not digits, fashion or a readable file of names"
    try:
        with open_regular(spec) as f:
            data = f.read(MAX_NAMES_BYTES + 1)
    except OSError as problem:
        raise InputError(f"{refused} ({problem.strerror or problem})") from None
    if len(data) > MAX_NAMES_BYTES:
        raise InputError(
            f"{refused} (over {MAX_NAMES_BYTES:,} bytes, more than 10 names of "
            f"{MAX_NAME_LENGTH} characters)"
        )
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as problem:
        raise InputError(f"{refused} ({problem})") from None
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()  # blank lines at the end
    if len(names) != 10 or not all(names):
        raise InputError(
            f"{spec}: expected 10 class names, one per line, found {sum(map(bool, names))}"
        )
    for line, name in enumerate(names, 1):
        if problem := name_problem(name):
            raise InputError(f"{spec}, line {line}: {problem}")
    if len(set(names)) != 10:
        raise InputError(f"{spec}: class names must differ, found {', '.join(names)}")
    return names


# Unicode's "other" categories: controls (Cc), formats such as right-to-left overrides (Cf),
# surrogates, private use and unassigned; and the line and paragraph separators
HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def name_problem(name) -> str | None:
    """Why `name` cannot be a class name, or None. Names are printed and drawn: text only, no
    control characters (an ANSI escape clears a terminal), and short enough for a caption."""
    if not isinstance(name, str) or not name.strip():
        return f"class name {name!r} is not text"
    hidden = [c for c in name if unicodedata.category(c) in HIDDEN_CATEGORIES]
    if hidden:
        return (
            f"class name {name!r} holds a control character (U+{ord(hidden[0]):04X}); "
            "names are plain text"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"class name {name!r} is longer than {MAX_NAME_LENGTH} characters"
    return None


def literal_text(name: str) -> str:
    """`name` as matplotlib draws it letter for letter: a pair of '$' would start math mode
    (and `$\\bad0$` is an error after the model is saved), so each '$' is escaped."""
    return name.replace("$", r"\$")
