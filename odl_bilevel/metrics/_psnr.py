"""Peak signal-to-noise ratio."""

import numpy as np

from ._common import as_image_pair, resolve_data_range

__all__ = ["psnr"]


def psnr(x, reference, *, data_range=None):
    r"""Peak signal-to-noise ratio of ``x`` against ``reference``, in decibels.

    .. math::

        \operatorname{PSNR}(x, x^\dagger)
        = 10 \log_{10} \frac{R^2}{\tfrac{1}{N}\lVert x - x^\dagger \rVert_2^2},

    with :math:`N` the number of samples and :math:`R` the data range.

    Parameters
    ----------
    x : array-like or odl element
        Reconstruction, 1-D or 2-D.
    reference : array-like or odl element
        Ground truth :math:`x^\dagger` of the same shape.
    data_range : float or None, optional
        :math:`R > 0`. None (default) uses the range of the *reference*,
        ``reference.max() - reference.min()`` (which is 1 for the embedded
        natural images, stretched to [0, 1]). Note that
        ``skimage.metrics.peak_signal_noise_ratio`` instead defaults to the
        range of the dtype (1 for non-negative floats); pass ``data_range``
        explicitly to compare across references.

    Returns
    -------
    psnr : float
        ``inf`` when ``x`` equals ``reference``.

    Raises
    ------
    ValueError
        For mismatched shapes, NaN/Inf, a non-positive ``data_range``, or a
        constant reference with ``data_range=None``.

    Examples
    --------
    An error of 0.1 everywhere on a signal of range 1 gives 20 dB:

    >>> ref = np.linspace(0.0, 1.0, 50)
    >>> round(psnr(ref + 0.1, ref), 6)
    20.0
    >>> psnr(ref, ref)
    inf
    """
    x, reference = as_image_pair(x, reference)
    data_range = resolve_data_range(data_range, reference)
    mse = float(np.mean((x - reference) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))
