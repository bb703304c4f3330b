"""Small natural grey images shipped with the package (no download, no scikit-image)."""

import functools
import importlib.resources
import numbers

import numpy as np

__all__ = ["available_images", "natural_images"]

_DATA_FILE = "natural_images.npz"


@functools.cache
def _load():
    path = importlib.resources.files(__package__) / "data" / _DATA_FILE
    with path.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        names = tuple(str(n) for n in npz["names"])
        images = np.array(npz["images"])
    images.setflags(write=False)
    return names, images


def available_images():
    """Return the names of the embedded natural images, in storage order.

    The images are 128 x 128 grey crops of pictures bundled with scikit-image,
    stretched to [0, 1]; their sources and licences are listed in
    ``odl_bilevel/datasets/data/README.md`` and the script that made them is
    ``tools/make_embedded_images.py``.

    Returns
    -------
    names : tuple of str

    Examples
    --------
    >>> available_images()[:3]
    ('camera', 'astronaut', 'coffee')
    """
    return _load()[0]


def _shape(size, stored):
    if size is None:
        return stored
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        shape = (int(size), int(size))
    else:
        try:
            shape = tuple(int(s) for s in size)
        except (TypeError, ValueError):
            raise TypeError(
                f"`size` must be None, an int or a pair of ints, got {size!r}"
            ) from None
        if len(shape) != 2 or any(isinstance(s, bool) for s in size):
            raise TypeError(f"`size` must be None, an int or a pair of ints, got {size!r}")
    if min(shape) < 1 or shape[0] > stored[0] or shape[1] > stored[1]:
        raise ValueError(f"`size` must lie between 1 and the stored shape {stored}, got {size!r}")
    return shape


def _resize(image, shape, method):
    rows, cols = image.shape
    if method == "crop":
        top, left = (rows - shape[0]) // 2, (cols - shape[1]) // 2
        return image[top : top + shape[0], left : left + shape[1]]
    fr, fc = rows // shape[0], cols // shape[1]
    if fr * shape[0] != rows or fc * shape[1] != cols:
        raise ValueError(
            f"`size` {shape} must divide the stored shape {image.shape} for method='mean'; "
            "use method='crop' or a divisor"
        )
    return image.reshape(shape[0], fr, shape[1], fc).mean(axis=(1, 3))


def natural_images(names=None, *, size=None, method="mean"):
    """Return embedded natural grey images as float64 arrays in [0, 1].

    Parameters
    ----------
    names : str or sequence of str or None, optional
        Which images (see :func:`available_images`); a single name is
        treated as a list of one; None returns all of them.
    size : int or (int, int) or None, optional
        Output shape (an int means square). None keeps the stored
        128 x 128 pixels.
    method : {"mean", "crop"}, optional
        ``"mean"`` averages over blocks (anti-aliased downsampling; ``size``
        must divide 128, e.g. 64 or 32); ``"crop"`` cuts out the centre
        (any size up to 128, e.g. 96).

    Returns
    -------
    images : list of numpy.ndarray
        One new, writable float64 array per name, in the order asked for.

    Raises
    ------
    ValueError
        For an unknown name, a bad ``size`` or ``method``.

    Notes
    -----
    The stored crops are uint8 (value/255), each stretched to the full range
    so that its minimum is 0 and its maximum 1. Block averaging
    (``method="mean"``) and cropping can shrink that range slightly, which
    changes the default ``data_range`` of :func:`odl_bilevel.metrics.psnr`;
    pass ``data_range=1.0`` to compare on the nominal [0, 1] scale.

    Examples
    --------
    >>> (camera,) = natural_images("camera")
    >>> camera.shape, camera.dtype.name, float(camera.min()), float(camera.max())
    ((128, 128), 'float64', 0.0, 1.0)
    >>> [im.shape for im in natural_images(["coins", "brick"], size=64)]
    [(64, 64), (64, 64)]
    """
    stored_names, images = _load()
    if method not in ("mean", "crop"):
        raise ValueError(f"`method` must be 'mean' or 'crop', got {method!r}")
    if names is None:
        names = stored_names
    elif isinstance(names, str):
        names = (names,)
    else:
        try:
            names = tuple(names)
        except TypeError:
            raise TypeError(
                f"`names` must be a name, a sequence of names or None, got {names!r}"
            ) from None
    shape = _shape(size, images.shape[1:])
    out = []
    for name in names:
        if not isinstance(name, str) or name not in stored_names:
            raise ValueError(
                f"`names` contains an unknown image {name!r}; available: {', '.join(stored_names)}"
            )
        image = images[stored_names.index(name)].astype(np.float64) / 255.0
        out.append(np.ascontiguousarray(_resize(image, shape, method)))
    return out
