"""Shared helpers for the plotting functions: inputs to arrays, figure grids."""

import math
import numbers

import numpy as np

__all__ = ["as_plot_array", "grid_figure", "positive_int"]


def as_plot_array(x, name):
    """Return the float64 array behind ``x`` (array-like or ODL element); 1-D or 2-D only."""
    data = x.data if hasattr(x, "space") and hasattr(x, "data") else x
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"`{name}` must be a 1-D signal or a 2-D image, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


def positive_int(value, name):
    """Return ``value`` as an int >= 1 or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value}")
    return int(value)


def grid_figure(n_panels, ncols, *, panel_size=(2.6, 2.6)):
    """Return ``(figure, axes)`` with exactly ``n_panels`` axes on a grid of ``ncols`` columns.

    The figure is a plain :class:`matplotlib.figure.Figure` (no pyplot state,
    so nothing is shown and nothing leaks); unused grid cells get no axes.
    """
    from matplotlib.figure import Figure

    nrows = max(1, math.ceil(n_panels / ncols))
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n_panels)]
    return fig, axes
