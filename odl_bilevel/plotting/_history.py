"""Upper-level objective against work (the convergence plot of the benchmarks)."""

import numpy as np

__all__ = ["plot_history"]


def plot_history(
    histories,
    *,
    xlabel="lower-level iterations",
    ylabel="upper-level objective",
    logy=True,
    logx=False,
    title=None,
):
    """Plot the upper-level objective against the work spent, one line per run.

    Parameters
    ----------
    histories : dict
        ``{label: sequence of (work, objective) pairs}``, e.g. cumulative
        lower-level iterations (from the work ledger) and the objective
        :math:`U(\\theta_k)` after each upper iteration.
    xlabel, ylabel : str, optional
        Axis labels; name the work measure used in ``histories``.
    logy, logx : bool, optional
        Logarithmic axes (the objective must then be positive, resp. the work).
    title : str or None, optional
        Axes title.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes with one line per label and a legend.

    Raises
    ------
    ValueError
        If a history is not a non-empty sequence of finite pairs, or has
        non-positive values on a logarithmic axis (the message names it).

    Examples
    --------
    >>> fig = plot_history({"dynamic": [(10, 1.0), (30, 0.5)], "fixed": [(100, 0.6)]})
    >>> ax = fig.axes[0]
    >>> len(ax.lines), ax.get_xlabel(), ax.get_yscale()
    (2, 'lower-level iterations', 'log')
    """
    from matplotlib.figure import Figure

    if not isinstance(histories, dict) or not histories:
        raise TypeError(
            f"`histories` must be a non-empty dict label -> [(work, objective), ...], "
            f"got {histories!r}"
        )
    curves = {}
    for label, history in histories.items():
        name = f"histories[{label!r}]"
        try:
            arr = np.asarray(history, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"`{name}` must be a sequence of (work, objective) pairs") from None
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
            raise ValueError(
                f"`{name}` must be a non-empty sequence of (work, objective) pairs, "
                f"got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`{name}` contains NaN or Inf")
        if logy and arr[:, 1].min() <= 0:
            raise ValueError(f"`{name}` has non-positive objectives; use logy=False")
        if logx and arr[:, 0].min() <= 0:
            raise ValueError(f"`{name}` has non-positive work; use logx=False")
        curves[str(label)] = arr
    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for label, arr in curves.items():
        ax.plot(arr[:, 0], arr[:, 1], marker="o", markersize=3, label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig
