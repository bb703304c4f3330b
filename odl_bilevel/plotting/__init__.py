"""Matplotlib figures for signals, images, reconstructions and convergence histories.

A leaf beside the stack (DESIGN.md §2). Matplotlib is imported inside the
functions, never when this package is imported; every function returns a
:class:`matplotlib.figure.Figure` built without pyplot, so nothing is shown
and no global figure state is touched (save it with ``figure.savefig``).
"""

from ._history import plot_history
from ._images import plot_images, plot_reconstructions
from ._patterns import (
    plot_continuation,
    plot_patterns,
    plot_rate_sweep,
    plot_sampling_reconstructions,
)

__all__ = [
    "plot_continuation",
    "plot_history",
    "plot_images",
    "plot_patterns",
    "plot_rate_sweep",
    "plot_reconstructions",
    "plot_sampling_reconstructions",
]
