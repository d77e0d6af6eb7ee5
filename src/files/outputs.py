"""Writing a run's outputs: checked before any work (never over a file the run reads, never
over what is not a regular file), then each one written whole (atomic_write), so a failed or
killed run damages nothing. It decides no file name; the commands do.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from files.errors import InputError
from files.paths import resolved


def check_outputs(outputs: list[Path], inputs: list[Path]) -> None:
    """Before any work, refuse an output that the run also reads, that is named twice, or that
    exists and is not a regular file (a folder, device, pipe, socket). Links count as targets."""
    read, targets = set(), [resolved(p) for p in outputs]
    for p in inputs:
        with contextlib.suppress(InputError):  # a link loop is no output either: nothing to match
            read.add(resolved(p))
    for path, target in zip(outputs, targets):  # exists(), is_file(): what the links point to
        if target in read:
            raise InputError(f"{path} is also read by this run; write the output elsewhere")
        if targets.count(target) > 1:
            raise InputError(f"{path} is named for two outputs; give each its own file")
        if Path(path).exists() and not Path(path).is_file():  # /proc/self/fd/1 is a pipe, say
            raise InputError(f"{path} exists and is not a regular file; choose a file name")


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator:
    """Write to a temporary file next to `path`, renamed over it only if writing succeeded:
    a crash mid-write leaves the old file untouched, never a half-written one. A link is
    written through to its target; a killed run's temporary file is removed next time."""
    path = resolved(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):  # .name.PID.xyz.tmp
            try:
                os.kill(int(stale.name[len(path.name) + 2 :].split(".")[0]), 0)  # still running?
            except ProcessLookupError:
                stale.unlink(missing_ok=True)
            except (ValueError, OSError):
                pass  # not one of ours, or another user's run
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
        umask = os.umask(0o022)
        os.umask(umask)  # an existing file keeps its mode; a new one gets the usual mode
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as problem:
        if "tmp" in locals():
            os.unlink(tmp)
        if isinstance(problem, OSError):  # no space, no permission...: say which file
            raise InputError(
                f"cannot write {path}: {problem.strerror or problem}; choose another place"
            ) from None
        raise


def save_figure(fig, path: Path) -> None:
    with atomic_write(path) as f:
        fig.savefig(f, format=path.suffix.lstrip("."), dpi=100, bbox_inches="tight")
