r"""A smooth, compactly supported 2-D bump (the warm-up image of the MRI sampling talk).

The bump :math:`\psi(r) = \exp\big(1 - 1/(1 - r^2)\big)` for :math:`r < 1` and 0
otherwise is infinitely differentiable, so its Fourier coefficients decay faster
than any power: a handful of low frequencies carry almost all of its energy,
which makes it the simplest test of whether a learned sampling pattern finds the
informative part of k-space.
"""

import numbers

import numpy as np

from odl_bilevel._validation import as_float

__all__ = ["bump_image"]


def _check_size(size):
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"`size` must be an int, got {size!r}")
    if size < 1:
        raise ValueError(f"`size` must be at least 1, got {size}")
    return int(size)


def _check_centre(centre, size):
    if centre is None:
        mid = (size - 1) / 2.0
        return mid, mid
    if isinstance(centre, str | bytes) or not hasattr(centre, "__len__") or len(centre) != 2:
        raise TypeError(f"`centre` must be a pair (row, column) of real numbers, got {centre!r}")
    return as_float(centre[0], "centre[0]"), as_float(centre[1], "centre[1]")


def bump_image(size, *, radius=None, centre=None):
    r"""Return a discrete 2-D bump :math:`\exp(1 - 1/(1 - r^2))` on a ``size x size`` grid.

    Pixel :math:`(i, j)` holds

    .. math::

        x_{ij} = \begin{cases}
            \exp\Big(1 - \dfrac{1}{1 - r_{ij}^2}\Big) & r_{ij} < 1,\\[4pt]
            0 & r_{ij} \ge 1,
        \end{cases}
        \qquad
        r_{ij} = \frac{\sqrt{(i - c_0)^2 + (j - c_1)^2}}{\rho},

    the distance of the pixel to the centre :math:`c = (c_0, c_1)` in units of
    the radius :math:`\rho` (pixel coordinates: row ``i``, column ``j``). The
    function is :math:`C^\infty`, equals 1 at the centre, decreases
    monotonically with :math:`r` and vanishes, with all its derivatives, on the
    circle :math:`r = 1`; its support is the open disc of radius :math:`\rho`.
    Its Fourier transform decays faster than any power of the frequency, so
    the image is well described by a few low frequencies: the talk's warm-up
    compares a learned sampling pattern with its largest Fourier coefficients.

    Parameters
    ----------
    size : int
        Side of the square image, in pixels (at least 1).
    radius : float or None, optional
        Radius :math:`\rho > 0` of the support, in pixels. None means
        ``size / 4``, a bump spanning half the field of view.
    centre : (float, float) or None, optional
        Centre :math:`(c_0, c_1)` in pixel coordinates (row, column); it need
        not be a pixel. None means the centre of the grid,
        ``((size - 1) / 2, (size - 1) / 2)``, so that the image is symmetric
        under flips of either axis and under transposition (for even ``size``
        the centre lies between four pixels, whose value is then below 1).

    Returns
    -------
    image : numpy.ndarray
        New float64 array of shape ``(size, size)`` with values in [0, 1].

    Raises
    ------
    TypeError
        If ``size`` is not an int, ``radius`` not a real number or ``centre``
        not a pair of real numbers.
    ValueError
        If ``size < 1``, ``radius`` is not positive and finite, or a centre
        coordinate is not finite.

    See Also
    --------
    odl_bilevel.problems.simulate_kspace : k-space data of the image.

    References
    ----------
    F. Sherry, M. Benning, J. C. De los Reyes, M. J. Graves, G. Maierhofer, G.
    Williams, C.-B. Schönlieb and M. J. Ehrhardt, Learning the sampling
    pattern for MRI, *IEEE Trans. Med. Imaging* 39(12):4310-4321, 2020.

    Examples
    --------
    >>> x = bump_image(9, radius=3.0)
    >>> x.shape, float(x[4, 4]), float(x[0, 0])        # 1 at the centre, 0 outside
    ((9, 9), 1.0, 0.0)
    >>> round(float(x[4, 5]), 6) == round(float(np.exp(1 - 1 / (1 - 1 / 9))), 6)  # r = 1/3
    True
    >>> bool(np.array_equal(x, x.T) and np.array_equal(x, x[::-1]))
    True
    """
    size = _check_size(size)
    radius = size / 4.0 if radius is None else as_float(radius, "radius")
    if radius <= 0:
        raise ValueError(f"`radius` must be positive, got {radius}")
    c0, c1 = _check_centre(centre, size)
    grid = np.arange(size, dtype=np.float64)
    # r^2 as an outer sum of squares, so that the flips of a centred bump are exact
    r2 = ((grid - c0) / radius)[:, None] ** 2 + ((grid - c1) / radius)[None, :] ** 2
    image = np.zeros((size, size))
    inside = r2 < 1.0
    image[inside] = np.exp(1.0 - 1.0 / (1.0 - r2[inside]))
    return image
