"""The project's two exceptions for a bad input. It imports nothing and does nothing else.

InputError: a problem a user can fix (a file, an array, an option), said in one line; every
command turns it into that line and exit status 1. ModelError: what is wrong inside a model
file, which model_file.read_model turns into an InputError naming the file.
"""

from __future__ import annotations


class InputError(ValueError):
    """A problem with something the user gave (a file, an array, an option), said in one line."""


class ModelError(ValueError):
    """What is wrong inside a model file."""
