"""Structural similarity index (Wang, Bovik, Sheikh and Simoncelli 2004)."""

import numbers

import numpy as np
from scipy import ndimage

from odl_bilevel._validation import as_float

from ._common import as_image_pair, resolve_data_range

__all__ = ["ssim"]

K1 = 0.01
K2 = 0.03


def _window_size(win_size, shape):
    if isinstance(win_size, bool) or not isinstance(win_size, numbers.Integral):
        raise TypeError(f"`win_size` must be an odd int, got {win_size!r}")
    if win_size < 3 or win_size % 2 == 0:
        raise ValueError(f"`win_size` must be an odd int >= 3, got {win_size}")
    if min(shape) < win_size:
        raise ValueError(
            f"`win_size` ({win_size}) exceeds the image extent {shape}; pass a smaller window"
        )
    return int(win_size)


def ssim(
    x,
    reference,
    *,
    data_range=None,
    window="gaussian",
    sigma=1.5,
    win_size=11,
    sample_covariance=False,
):
    r"""Mean structural similarity index of ``x`` against ``reference``.

    The SSIM of Wang et al. [1]_ compares local means, variances and the
    covariance inside a sliding window :math:`w` (weights summing to 1):

    .. math::

        \operatorname{SSIM}(x, y)_p = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
            {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},
        \quad \mu_x = w * x,\ \sigma_x^2 = w * x^2 - \mu_x^2,\
        \sigma_{xy} = w * (xy) - \mu_x\mu_y,

    with :math:`C_1 = (K_1 R)^2`, :math:`C_2 = (K_2 R)^2`, :math:`K_1 = 0.01`,
    :math:`K_2 = 0.03` and :math:`R` the data range. The result is the mean of
    the map over the pixels whose window lies fully inside the image (a
    margin of ``(win_size - 1) // 2`` is dropped on each side, the paper's
    "valid" filtering), so no boundary extension enters the value.

    Defaults follow the paper: an 11-tap Gaussian window of standard
    deviation 1.5 (per axis, normalised to unit sum) and population
    (weighted, un-corrected) moments. This equals scikit-image's
    ``structural_similarity(x, ref, data_range=R, gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False)``. With ``window="uniform"``
    and ``sample_covariance=True`` it equals scikit-image's default uniform
    variant (``win_size=7``, covariances scaled by :math:`N_P/(N_P - 1)`,
    :math:`N_P` = ``win_size ** ndim``).

    Parameters
    ----------
    x : array-like or odl element
        Reconstruction, 1-D or 2-D.
    reference : array-like or odl element
        Ground truth of the same shape.
    data_range : float or None, optional
        :math:`R > 0`; None (default) uses ``reference.max() - reference.min()``.
    window : {"gaussian", "uniform"}, optional
        Window shape along every axis.
    sigma : float, optional
        Standard deviation of the Gaussian window in samples (ignored for
        ``"uniform"``).
    win_size : int, optional
        Odd window length; the Gaussian window is truncated to it (radius
        ``(win_size - 1) // 2``). Every axis must be at least this long.
    sample_covariance : bool, optional
        Scale the moments by :math:`N_P/(N_P - 1)` (scikit-image's
        ``use_sample_covariance=True``); the paper does not (default).

    Returns
    -------
    ssim : float
        In [-1, 1]; 1 exactly when ``x`` equals ``reference``.

    Raises
    ------
    ValueError
        For mismatched shapes, NaN/Inf, a bad window or data range.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image
       quality assessment: from error visibility to structural similarity",
       IEEE Trans. Image Process. 13(4), 600-612, 2004.
       https://doi.org/10.1109/TIP.2003.819861

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.uniform(size=(32, 32))
    >>> ssim(ref, ref)
    1.0
    >>> noisy = ref + 0.1 * rng.normal(size=ref.shape)
    >>> round(ssim(noisy, ref, data_range=1.0), 3)
    0.934
    """
    x, reference = as_image_pair(x, reference)
    data_range = resolve_data_range(data_range, reference)
    win_size = _window_size(win_size, reference.shape)
    radius = (win_size - 1) // 2
    if window == "gaussian":
        sigma = as_float(sigma, "sigma")
        if sigma <= 0:
            raise ValueError(f"`sigma` must be positive, got {sigma}")

        def smooth(a):
            return ndimage.gaussian_filter(a, sigma, mode="reflect", radius=radius)

    elif window == "uniform":

        def smooth(a):
            return ndimage.uniform_filter(a, size=win_size, mode="reflect")

    else:
        raise ValueError(f"`window` must be 'gaussian' or 'uniform', got {window!r}")
    if not isinstance(sample_covariance, bool):
        raise TypeError(f"`sample_covariance` must be a bool, got {sample_covariance!r}")
    n_window = win_size**reference.ndim
    cov_norm = n_window / (n_window - 1) if sample_covariance else 1.0

    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = smooth(x), smooth(reference)
    var_x = cov_norm * (smooth(x * x) - mu_x * mu_x)
    var_y = cov_norm * (smooth(reference * reference) - mu_y * mu_y)
    cov_xy = cov_norm * (smooth(x * reference) - mu_x * mu_y)
    numerator = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    ssim_map = numerator / denominator
    inner = tuple(slice(radius, n - radius) for n in ssim_map.shape)
    return float(np.mean(ssim_map[inner]))
