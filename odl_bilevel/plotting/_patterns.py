r"""MRI sampling patterns: masks, reconstructions with error maps, sparsity sweeps, continuation.

The library's DFT is unshifted (the DC coefficient at index 0, ``numpy.fft.fftfreq``
order); the masks are drawn ``fftshift``-ed by default so that low frequencies sit
in the centre of the panel, as in the MRI literature.
"""

import math

import numpy as np

from odl_bilevel.metrics import psnr, ssim

from ._common import as_plot_array, positive_int

__all__ = [
    "plot_continuation",
    "plot_patterns",
    "plot_rate_sweep",
    "plot_sampling_reconstructions",
]

_SSIM_WINDOW = 11  # default window of odl_bilevel.metrics.ssim


def _new_figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _as_dict(value, name):
    if not isinstance(value, dict) or not value:
        raise TypeError(f"`{name}` must be a non-empty dict label -> array, got {value!r}")
    return {str(k): as_plot_array(v, f"{name}[{k!r}]") for k, v in value.items()}


def _display(pattern, shift):
    return np.fft.fftshift(pattern) if shift else pattern


def _rate(pattern):
    return float(np.count_nonzero(pattern)) / pattern.size


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_pattern(ax, arr, shift):
    if arr.ndim == 2:
        ax.imshow(_display(arr, shift), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        _bare(ax)
    else:
        ax.stem(
            np.fft.fftshift(np.fft.fftfreq(arr.size)) if shift else np.arange(arr.size),
            _display(arr, shift),
            markerfmt=" ",
            basefmt=" ",
        )
        ax.set_ylim(-0.05, 1.05)


def plot_patterns(patterns, *, shift=True, show_rate=True, ncols=None, panel_size=2.6):
    r"""Draw sampling patterns side by side, low frequencies in the centre.

    A pattern :math:`s \in [0, 1]^m` weights the k-space coefficients of the
    unitary DFT, stored unshifted (DC at index 0). Each panel shows
    ``numpy.fft.fftshift(s)`` in grey (white = sampled) so that the DC
    coefficient sits in the middle; a 1-D pattern is drawn as stems over the
    frequency.

    Parameters
    ----------
    patterns : dict
        ``{label: pattern}``, 1-D or 2-D arrays with values in [0, 1].
    shift : bool, optional
        Draw ``fftshift(pattern)`` (True) or the stored layout (False).
    show_rate : bool, optional
        Add the sampling rate (fraction of nonzero entries) to the titles.
    ncols : int or None, optional
        Number of columns; None puts all patterns on one row (at most 6).
    panel_size : float, optional
        Width and height of one panel in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes per pattern, in insertion order.

    Raises
    ------
    TypeError
        If ``patterns`` is not a non-empty dict of real arrays.
    ValueError
        If a pattern is not 1-D or 2-D or has values outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((8, 8)); s[0, 0] = s[1, :] = 1.0
    >>> fig = plot_patterns({"lines": s})
    >>> fig.axes[0].get_title()
    'lines\n14.1%'
    >>> float(fig.axes[0].images[0].get_array()[4, 4])   # DC drawn in the centre
    1.0
    """
    arrays = _as_dict(patterns, "patterns")
    for label, arr in arrays.items():
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0 or not np.all(np.isfinite(arr))):
            raise ValueError(f"`patterns[{label!r}]` must have values in [0, 1]")
    n = len(arrays)
    ncols = min(n, 6) if ncols is None else positive_int(ncols, "ncols")
    nrows = math.ceil(n / ncols)
    size = float(panel_size)
    fig = _new_figure(size * ncols, (size + 0.3) * nrows)
    for i, (label, arr) in enumerate(arrays.items()):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _draw_pattern(ax, arr, shift)
        title = label + (f"\n{_rate(arr):.1%}" if show_rate else "")
        ax.set_title(title, fontsize="medium")
    return fig


def _metric_text(x, clean, data_range):
    text = f"{psnr(x, clean, data_range=data_range):.2f} dB"
    if min(clean.shape) >= _SSIM_WINDOW:
        text += f", SSIM {ssim(x, clean, data_range=data_range):.3f}"
    return text


def plot_sampling_reconstructions(
    clean, recons, *, patterns=None, shift=True, data_range=1.0, error_max=None, panel_size=2.4
):
    r"""Draw the ground truth beside reconstructions, their error maps and (optionally) masks.

    Columns: the truth, then one column per method. Rows: the masks (when
    ``patterns`` is given, ``fftshift``-ed), the reconstructions with PSNR and
    SSIM against the truth in the titles, and the error maps
    :math:`|\hat x - x^\dagger|` on one common colour scale.

    Parameters
    ----------
    clean : array-like
        The 2-D ground truth :math:`x^\dagger`.
    recons : dict
        ``{label: reconstruction}`` of the shape of ``clean``.
    patterns : dict or None, optional
        ``{label: pattern}`` with the labels of ``recons`` (a missing label
        leaves that mask panel empty).
    shift : bool, optional
        Draw the masks ``fftshift``-ed.
    data_range : float, optional
        Range of the metrics and of the grey values, ``[0, data_range]``.
    error_max : float or None, optional
        Upper end of the error colour scale; None: the largest error drawn.
    panel_size : float, optional
        Width and height of one panel in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The truth's axes first, then per method the mask (if any),
        reconstruction and error axes, and last the colour bar of the errors.

    Raises
    ------
    TypeError
        If ``recons`` (or ``patterns``) is not a non-empty dict.
    ValueError
        If an array is not 2-D or a shape differs from ``clean``'s.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 256).reshape(16, 16)
    >>> fig = plot_sampling_reconstructions(x, {"A": x + 0.1})
    >>> [ax.get_title() for ax in fig.axes[:3]]     # then the error colour bar
    ['truth', 'A\n20.00 dB, SSIM 0.982', '|error|']
    """
    ref = as_plot_array(clean, "clean")
    if ref.ndim != 2:
        raise ValueError(f"`clean` must be a 2-D image, got shape {ref.shape}")
    arrays = _as_dict(recons, "recons")
    masks = {} if patterns is None else _as_dict(patterns, "patterns")
    for name, group in (("recons", arrays), ("patterns", masks)):
        for label, arr in group.items():
            if arr.shape != ref.shape:
                raise ValueError(
                    f"`{name}[{label!r}]` must have the shape of `clean` {ref.shape}, "
                    f"got {arr.shape}"
                )
    data_range = float(data_range)
    errors = {label: np.abs(arr - ref) for label, arr in arrays.items()}
    top = max(float(e.max()) for e in errors.values()) if error_max is None else error_max
    top = float(top) if top > 0 else 1.0
    ncols = len(arrays) + 1
    nrows = 3 if masks else 2
    first = 1 if masks else 0  # row of the reconstructions
    size = float(panel_size)
    fig = _new_figure(size * ncols, (size + 0.35) * nrows)
    ax = fig.add_subplot(nrows, ncols, first * ncols + 1)
    ax.imshow(ref, cmap="gray", vmin=0.0, vmax=data_range, interpolation="nearest")
    ax.set_title("truth", fontsize="medium")
    _bare(ax)
    image = None
    for j, (label, arr) in enumerate(arrays.items(), start=2):
        if label in masks:
            ax = fig.add_subplot(nrows, ncols, j)
            _draw_pattern(ax, masks[label], shift)
            ax.set_title(f"mask {_rate(masks[label]):.1%}", fontsize="small")
        ax = fig.add_subplot(nrows, ncols, first * ncols + j)
        ax.imshow(arr, cmap="gray", vmin=0.0, vmax=data_range, interpolation="nearest")
        ax.set_title(f"{label}\n{_metric_text(arr, ref, data_range)}", fontsize="small")
        _bare(ax)
        ax = fig.add_subplot(nrows, ncols, (first + 1) * ncols + j)
        image = ax.imshow(errors[label], cmap="magma", vmin=0.0, vmax=top, interpolation="nearest")
        ax.set_title("|error|", fontsize="small")
        _bare(ax)
    fig.colorbar(image, ax=fig.axes[-1], shrink=0.8)
    return fig


def _pairs(value, name):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a sequence of (x, y) pairs") from None
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a non-empty sequence of (x, y) pairs, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return arr


def plot_rate_sweep(
    points,
    *,
    labels=None,
    reference=None,
    patterns=None,
    shift=True,
    xlabel="sampling rate",
    ylabel="test PSNR (dB)",
):
    r"""Plot a quality measure against the sampling rate, e.g. of learned patterns for growing β.

    Raising the sparsity weight :math:`\beta_1` of
    :math:`\beta_1\|s\|_1 + \beta_2\|s(1 - s)\|_1` gives sparser learned
    patterns; this figure shows what that costs in reconstruction quality,
    optionally with the patterns themselves in a row below.

    Parameters
    ----------
    points : sequence of (rate, value)
        The curve, drawn in order of increasing rate.
    labels : sequence of str or None, optional
        One annotation per point (e.g. the final :math:`\beta_1`).
    reference : dict or None, optional
        ``{label: (rate, value)}`` drawn as separate markers (baselines).
    patterns : sequence of array-like or None, optional
        One pattern per point, drawn (``fftshift``-ed) below the curve.
    shift : bool, optional
        Draw the patterns ``fftshift``-ed.
    xlabel, ylabel : str, optional
        Axis labels.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The curve's axes first, then one axes per pattern.

    Raises
    ------
    TypeError, ValueError
        If ``points`` is not a non-empty sequence of finite pairs, or
        ``labels``/``patterns`` do not have one entry per point.

    Examples
    --------
    >>> fig = plot_rate_sweep([(0.1, 25.0), (0.3, 30.0)], labels=["b=1", "b=0.1"],
    ...                       reference={"random": (0.3, 27.0)})
    >>> ax = fig.axes[0]
    >>> len(ax.lines), ax.get_xlabel(), [t.get_text() for t in ax.texts]
    (2, 'sampling rate', ['b=1', 'b=0.1'])
    """
    arr = _pairs(points, "points")
    order = np.argsort(arr[:, 0], kind="stable")
    n = arr.shape[0]
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` must have one entry per point ({n}), got {len(labels)}")
    masks = None
    if patterns is not None:
        masks = [as_plot_array(p, f"patterns[{i}]") for i, p in enumerate(patterns)]
        if len(masks) != n:
            raise ValueError(f"`patterns` must have one entry per point ({n}), got {len(masks)}")
    refs = {}
    if reference is not None:
        if not isinstance(reference, dict):
            raise TypeError(
                f"`reference` must be a dict label -> (rate, value), got {reference!r}"
            )
        refs = {str(k): _pairs([v], f"reference[{k!r}]")[0] for k, v in reference.items()}
    width = max(5.5, 2.0 * n) if masks else 5.5
    fig = _new_figure(width, 6.2 if masks else 4.0)
    if masks:
        grid = fig.add_gridspec(2, n, height_ratios=(2.0, 1.0))
        ax = fig.add_subplot(grid[0, :])
    else:
        ax = fig.add_subplot()
    ax.plot(arr[order, 0], arr[order, 1], marker="o", label="learned")
    if labels is not None:
        for (x, y), text in zip(arr, labels, strict=True):
            ax.annotate(
                str(text), (x, y), textcoords="offset points", xytext=(4, 4), fontsize="small"
            )
    for label, (x, y) in refs.items():
        ax.plot([x], [y], marker="s", linestyle="none", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if masks:
        for col, i in enumerate(order):
            sub = fig.add_subplot(grid[1, col])
            _draw_pattern(sub, masks[i], shift)
            sub.set_title(f"{arr[i, 0]:.1%}", fontsize="small")
    return fig


def plot_continuation(
    runs,
    *,
    targets=None,
    histories=None,
    work_label="lower-level solves",
    objective_label="upper-level objective",
):
    r"""Plot a β-continuation: support rate of the learned weights against :math:`\beta_1`.

    Each stage of the continuation learns the weights at a fixed
    :math:`\beta_1` and records the fraction of weights above the support
    threshold; :math:`\beta_1` grows until that rate reaches the target.
    With ``histories`` a second panel shows the upper-level objective
    against the work spent (as :func:`plot_history`).

    Parameters
    ----------
    runs : dict
        ``{label: sequence of (beta1, support_rate)}``, one pair per stage;
        drawn in order of increasing :math:`\beta_1` (refinement stages that
        bisect between earlier ones fall into place).
    targets : dict or None, optional
        ``{label: rate}``: the requested rates, drawn as dashed lines.
    histories : dict or None, optional
        ``{label: sequence of (work, objective)}`` for the second panel.
    work_label, objective_label : str, optional
        x- and y-label of the second panel.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One or two axes.

    Raises
    ------
    TypeError, ValueError
        If a run or history is not a non-empty sequence of finite pairs, or
        a :math:`\beta_1` is not positive.

    Examples
    --------
    >>> fig = plot_continuation({"free": [(1e-3, 0.8), (2e-3, 0.5), (4e-3, 0.25)]},
    ...                         targets={"free": 0.3})
    >>> ax = fig.axes[0]
    >>> len(ax.lines), ax.get_xscale()
    (2, 'log')
    """
    if not isinstance(runs, dict) or not runs:
        raise TypeError(
            f"`runs` must be a non-empty dict label -> [(beta1, rate), ...], got {runs!r}"
        )
    curves = {str(k): _pairs(v, f"runs[{k!r}]") for k, v in runs.items()}
    for label, arr in curves.items():
        if arr[:, 0].min() <= 0:
            raise ValueError(f"`runs[{label!r}]` has a non-positive beta1")
    hist = {}
    if histories is not None:
        if not isinstance(histories, dict):
            raise TypeError(
                f"`histories` must be a dict label -> [(work, objective), ...], got {histories!r}"
            )
        hist = {str(k): _pairs(v, f"histories[{k!r}]") for k, v in histories.items()}
    fig = _new_figure(11.0 if hist else 5.5, 4.0)
    ax = fig.add_subplot(1, 2 if hist else 1, 1)
    for label, arr in curves.items():
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
        (line,) = ax.plot(arr[:, 0], arr[:, 1], marker="o", label=label)
        if targets is not None and label in targets:
            ax.axhline(
                float(targets[label]), color=line.get_color(), linestyle="--", linewidth=1.0
            )
    ax.set_xscale("log")
    ax.set_xlabel(r"$\beta_1$")
    ax.set_ylabel("support rate of the learned weights")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if hist:
        ax2 = fig.add_subplot(1, 2, 2)
        for label, arr in hist.items():
            ax2.plot(arr[:, 0], arr[:, 1], marker=".", label=label)
        if all(arr[:, 1].min() > 0 for arr in hist.values()):
            ax2.set_yscale("log")
        ax2.set_xlabel(work_label)
        ax2.set_ylabel(objective_label)
        ax2.grid(True, which="both", alpha=0.3)
        ax2.legend(fontsize="small")
    return fig
