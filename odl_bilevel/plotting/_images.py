"""Images and signals side by side, and reconstructions with their PSNR/SSIM."""

from odl_bilevel.metrics import psnr, ssim

from ._common import as_plot_array, grid_figure, positive_int

__all__ = ["plot_images", "plot_reconstructions"]

_SSIM_WINDOW = 11  # default window of odl_bilevel.metrics.ssim


def _draw(ax, arr, *, cmap, vmin, vmax, reference=None):
    if arr.ndim == 2:
        ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    if reference is not None:
        ax.plot(reference, color="0.6", linestyle="--", linewidth=1.0, label="clean")
    ax.plot(arr, linewidth=1.2)
    if vmin is not None or vmax is not None:
        ax.set_ylim(vmin, vmax)


def plot_images(images, titles=None, *, cmap="gray", ncols=None, vmin=None, vmax=None):
    """Draw signals and images side by side on one figure.

    Parameters
    ----------
    images : sequence or dict
        1-D signals (drawn as lines) and/or 2-D images (drawn with
        ``imshow``), as arrays or ODL elements; a dict maps titles to them.
    titles : sequence of str or None, optional
        One title per panel (not allowed together with a dict).
    cmap : str, optional
        Colour map of the images.
    ncols : int or None, optional
        Number of columns; None uses ``min(len(images), 4)``.
    vmin, vmax : float or None, optional
        Common grey-value range of the images (y-limits of the signals);
        None scales each panel to its own data.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes per panel, in order. Save it with ``figure.savefig(path)``;
        the library never calls ``pyplot.show``.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_images([np.zeros((8, 8)), np.arange(5.0)], ["image", "signal"])
    >>> [ax.get_title() for ax in fig.axes]
    ['image', 'signal']
    """
    if isinstance(images, dict):
        if titles is not None:
            raise ValueError("`titles` must be None when `images` is a dict")
        titles, images = list(images), list(images.values())
    else:
        images = list(images)
    if not images:
        raise ValueError("`images` must not be empty")
    arrays = [as_plot_array(im, f"images[{i}]") for i, im in enumerate(images)]
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != len(arrays):
            raise ValueError(
                f"`titles` must have one entry per image ({len(arrays)}), got {len(titles)}"
            )
    ncols = min(len(arrays), 4) if ncols is None else positive_int(ncols, "ncols")
    fig, axes = grid_figure(len(arrays), ncols)
    for i, (ax, arr) in enumerate(zip(axes, arrays, strict=True)):
        _draw(ax, arr, cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize="medium")
    return fig


def _metric_text(x, clean, data_range):
    text = f"PSNR {psnr(x, clean, data_range=data_range):.2f} dB"
    if min(clean.shape) >= _SSIM_WINDOW:
        text += f", SSIM {ssim(x, clean, data_range=data_range):.3f}"
    return text


def _as_rows(value, name, n_rows):
    if n_rows is None:
        return [value]
    if not isinstance(value, list | tuple) or len(value) != n_rows:
        raise ValueError(f"`{name}` must be a list of {n_rows} samples, like `clean`")
    return list(value)


def plot_reconstructions(
    clean, noisy, recons, *, metrics=True, data_range=None, cmap="gray", panel_size=2.6
):
    """Draw ground truth, data and reconstructions, with PSNR and SSIM in the titles.

    Parameters
    ----------
    clean : array-like or odl element, or list of them
        Ground truth; a list or tuple gives one row per sample.
    noisy : like ``clean``, or None
        Data shown in the second column (None: no such column).
    recons : dict
        ``{label: reconstruction}`` (or ``{label: list}`` with a list
        ``clean``), one column each, in insertion order.
    metrics : bool, optional
        Add ``PSNR .. dB, SSIM ..`` against ``clean`` to the titles of the
        noisy and reconstructed panels (SSIM only when every axis has at
        least 11 samples, the window of :func:`odl_bilevel.metrics.ssim`).
    data_range : float or None, optional
        Passed to the metrics; None uses each clean sample's max - min.
    cmap : str, optional
        Colour map of the images. The images of a row share the grey-value
        range of the clean one; the signals of a row share one y-range.
    panel_size : float, optional
        Width and height of one panel in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        ``rows x columns`` axes, row by row.

    Examples
    --------
    >>> import numpy as np
    >>> clean = np.linspace(0.0, 1.0, 32)
    >>> fig = plot_reconstructions(clean, clean + 0.1, {"TV": clean})
    >>> [ax.get_title() for ax in fig.axes]
    ['clean', 'noisy\\nPSNR 20.00 dB, SSIM 0.973', 'TV\\nPSNR inf dB, SSIM 1.000']
    """
    if not isinstance(recons, dict):
        raise TypeError(f"`recons` must be a dict label -> reconstruction, got {recons!r}")
    n_rows = len(clean) if isinstance(clean, list | tuple) else None
    if n_rows == 0:
        raise ValueError("`clean` must not be empty")
    cleans = _as_rows(clean, "clean", n_rows)
    columns = [("clean", cleans)]
    if noisy is not None:
        columns.append(("noisy", _as_rows(noisy, "noisy", n_rows)))
    for label, value in recons.items():
        columns.append((str(label), _as_rows(value, f"recons[{label!r}]", n_rows)))
    panel_size = float(panel_size)
    fig, axes = grid_figure(
        len(columns) * len(cleans), len(columns), panel_size=(panel_size, panel_size)
    )
    for row, clean_item in enumerate(cleans):
        ref = as_plot_array(clean_item, f"clean[{row}]" if n_rows else "clean")
        arrays = []
        for col, (label, values) in enumerate(columns):
            name = label if col else "clean"
            arr = as_plot_array(values[row], f"{name}[{row}]" if n_rows else name)
            if arr.shape != ref.shape:
                raise ValueError(
                    f"`{name}` must have the shape of `clean` {ref.shape}, got {arr.shape}"
                )
            arrays.append(arr)
        if ref.ndim == 2:  # grey values of the row on the clean image's scale
            vmin, vmax = float(ref.min()), float(ref.max())
        else:  # one y-range for the row, covering every signal
            low = min(float(a.min()) for a in arrays)
            high = max(float(a.max()) for a in arrays)
            pad = 0.05 * (high - low) if high > low else 0.5
            vmin, vmax = low - pad, high + pad
        for col, ((label, _), arr) in enumerate(zip(columns, arrays, strict=True)):
            ax = axes[row * len(columns) + col]
            _draw(ax, arr, cmap=cmap, vmin=vmin, vmax=vmax, reference=ref if col else None)
            title = label
            if metrics and col:
                title += "\n" + _metric_text(arr, ref, data_range)
            ax.set_title(title, fontsize="medium")
    return fig
