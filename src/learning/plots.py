"""The tutorial's figures made quickly: digits with captions drawn as one mosaic image, and
the window shown only where there is a display. It computes nothing about the network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from files.outputs import save_figure


def plot_digit_grid(images, captions: list[str], colors: list[str], title: str, path: Path):
    """Digits in rows of 8, each with a caption above it, drawn as one mosaic image (fast)."""
    import matplotlib.pyplot as plt

    n = len(images)
    cols = 8
    rows = max(1, -(-n // cols))  # ceil(n / cols)
    caption_lines = max([caption.count("\n") + 1 for caption in captions] or [1])
    room = 4 + 9 * caption_lines  # pixels above each digit for its caption
    height = room + 28  # one tile: the caption's room, then the digit
    width = 28 + 6  # the digit and a margin of 3 on each side
    tiles = np.zeros((rows * cols, height, width))
    tiles[:n, room:, 3:31] = images.reshape(n, 28, 28)  # (n, 784) -> (n, 28, 28)
    mosaic = tiles.reshape(rows, cols, height, width).transpose(0, 2, 1, 3)  # (rows, H, cols, W)
    fig, ax = plt.subplots(figsize=(cols * 1.25, rows * height / 28 * 1.25 + 0.5))
    ax.imshow(mosaic.reshape(rows * height, cols * width), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    for i, (caption, color) in enumerate(zip(captions, colors)):
        x = (i % cols + 0.5) * width
        y = (i // cols) * height + room / 2
        # parse_math=False: a class name is text, even one with two "$" signs in it
        ax.text(x, y, caption, ha="center", va="center", color=color, fontsize=8, parse_math=False)
    ax.set_title(title)
    save_figure(fig, path)
    return fig


def show_figures_if_possible() -> None:
    """Open the figures in a window when matplotlib has an interactive backend (a display)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends import BackendFilter, backend_registry

    if plt.get_backend().lower() in backend_registry.list_builtin(BackendFilter.INTERACTIVE):
        plt.show()
    plt.close("all")
