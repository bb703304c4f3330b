"""Axial slices of a real T1 brain MRI (MNI ICBM152 2009a), shipped with the package.

The embedded slices live in ``data/brain_slices.npz`` (made by
``tools/make_brain_slices.py``; source and copyright notice in
``data/README.md``) and are read with NumPy only. :func:`load_template_slices`
reads any slice of the full template, or of another NIfTI volume, with nibabel,
which it imports only when called.
"""

import functools
import importlib.resources
import importlib.util
import numbers
import pathlib

import numpy as np

from odl_bilevel._validation import as_float

from ._random import as_generator

__all__ = [
    "TEMPLATE_NOTICE",
    "available_brain_slices",
    "brain_slices",
    "brain_split_indices",
    "brain_train_test",
    "load_template_slices",
]

_DATA_FILE = "brain_slices.npz"
_TEMPLATE_FILE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
_CANVAS = 256  # side of the stored slices, in pixels (1 mm voxels)
_MIN_SIZE, _MAX_SIZE = 16, 1024
_FOREGROUND = 0.05  # a pixel above this (on the [0, 1] scale) counts as brain

TEMPLATE_NOTICE = (
    "Copyright (C) 1993-2004 Louis Collins, McConnell Brain Imaging Centre, Montreal "
    "Neurological Institute, McGill University. Permission to use, copy, modify, and "
    "distribute this software and its documentation for any purpose and without fee is "
    "hereby granted, provided that the above copyright notice appear in all copies."
)
"""Copyright notice of the MNI ICBM152 template, kept with every copy of its slices."""


@functools.cache
def _load():
    path = importlib.resources.files(__package__) / "data" / _DATA_FILE
    with path.open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        images = np.array(npz["images"])
        indices = tuple(int(i) for i in npz["indices"])
    images.setflags(write=False)
    return indices, images


def available_brain_slices():
    """Return the template indices of the embedded axial brain slices, inferior first.

    Slice ``k`` is the plane ``z = k`` (1 mm voxels) of the MNI ICBM152 2009a
    symmetric T1 template, 197 x 233 x 189 voxels, as bundled with nilearn.

    Returns
    -------
    indices : tuple of int
        Increasing axial indices; they are the values accepted by the
        ``indices`` argument of :func:`brain_slices`.

    Examples
    --------
    >>> idx = available_brain_slices()
    >>> len(idx), idx[0], idx[-1]
    (24, 25, 140)
    """
    return _load()[0]


# --------------------------------------------------------------------------- resizing


def _check_size(size):
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"`size` must be an int, got {size!r}")
    size = int(size)
    if not _MIN_SIZE <= size <= _MAX_SIZE:
        raise ValueError(f"`size` must lie in [{_MIN_SIZE}, {_MAX_SIZE}], got {size}")
    return size


def _area_matrix(n_in, n_out):
    """Return the (n_out, n_in) matrix averaging the input over each output pixel's area."""
    ratio = n_in / n_out
    lo = np.arange(n_out)[:, None] * ratio
    hi = lo + ratio
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / ratio


def _linear_matrix(n_in, n_out):
    """Return the (n_out, n_in) matrix of linear interpolation at the output pixel centres."""
    u = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0, n_in - 1.0)
    j0 = np.floor(u).astype(np.intp)
    j1 = np.minimum(j0 + 1, n_in - 1)
    w = u - j0
    mat = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(mat, (rows, j0), 1.0 - w)
    np.add.at(mat, (rows, j1), w)
    return mat


def _resize(image, size):
    """Resize a square float image to ``size x size`` (see :func:`brain_slices`, Notes)."""
    n = image.shape[0]
    if size == n:
        return image.copy()
    if size < n and n % size == 0:
        f = n // size
        return image.reshape(size, f, size, f).mean(axis=(1, 3))
    mat = _area_matrix(n, size) if size < n else _linear_matrix(n, size)
    return np.clip(mat @ image @ mat.T, 0.0, 1.0)


# --------------------------------------------------------------------------- selection


def _check_count(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"`{name}` must lie in [{low}, {high}], got {value}")
    return int(value)


def _spread(k, n):
    """Return ``k`` increasing distinct positions in ``range(n)`` spread evenly, ends included."""
    if k == 1:
        return np.array([(n - 1) // 2])
    return np.floor(np.linspace(0.0, n - 1.0, k) + 0.5).astype(np.intp)


def _positions(indices, available, name="indices"):
    if isinstance(indices, numbers.Integral) and not isinstance(indices, bool):
        indices = (indices,)
    try:
        indices = tuple(indices)
    except TypeError:
        raise TypeError(f"`{name}` must be a sequence of ints or None, got {indices!r}") from None
    lookup = {k: p for p, k in enumerate(available)}
    out = []
    for k in indices:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or int(k) not in lookup:
            raise ValueError(
                f"`{name}` contains {k!r}, which is not an embedded slice; available: "
                f"{', '.join(map(str, available))} (use load_template_slices for others)"
            )
        out.append(lookup[int(k)])
    return out


def brain_slices(n=None, *, size=256, indices=None):
    r"""Return axial slices of a real T1 brain MRI as float64 images in [0, 1].

    The slices are planes of the MNI ICBM152 2009a symmetric T1 template
    (skull-stripped, 1 mm voxels), zero-padded and centred on a 256 x 256
    grid, anterior at the top, and scaled by the fixed factor 1/255 of the
    template's 8-bit grey levels, so intensities compare across slices.
    Copyright notice: :data:`TEMPLATE_NOTICE`; source and the script that made
    the embedded file: ``odl_bilevel/datasets/data/README.md``.

    Parameters
    ----------
    n : int or None, optional
        Number of slices, ``1 <= n <= 24``, spread evenly over the embedded
        ones (lowest and highest included when ``n >= 2``). None, with
        ``indices`` None, returns all of them.
    size : int, optional
        Side of the square output, from 16 to 1024 pixels; the intended range
        of the learning problems is 64 to 256 (see Notes).
    indices : sequence of int or None, optional
        Template axial indices of the slices wanted, in the order wanted
        (values of :func:`available_brain_slices`). Exclusive with ``n``.

    Returns
    -------
    slices : list of numpy.ndarray
        New, writable float64 arrays of shape ``(size, size)``, inferior
        slices first when ``indices`` is None.

    Raises
    ------
    TypeError
        For a non-integer ``n`` or ``size`` or a non-sequence ``indices``.
    ValueError
        For ``n`` or ``size`` out of range, an index that is not embedded, or
        both ``n`` and ``indices`` given.

    See Also
    --------
    brain_train_test : training and held-out test slices.
    load_template_slices : any slice of the full template (needs nibabel).

    Notes
    -----
    Resizing from the stored 256 x 256 pixels :math:`X`:

    - ``size`` divides 256 (128, 64, 32, 16): the mean over
      ``256/size x 256/size`` blocks.
    - other ``size < 256`` (e.g. 96, 192): area averaging
      :math:`R X R^T`, where :math:`R_{ij} = |I_i \cap [j, j+1)| / r` is the
      length of the overlap of output pixel :math:`I_i = [i r, (i+1) r)`,
      :math:`r = 256/\text{size}`, with input pixel :math:`j`, divided by
      :math:`r`. It is the exact generalisation of block averaging: each
      output pixel is the mean of the image over its area, so the mean
      intensity is preserved exactly, values stay in [0, 1], and aliasing is
      damped (``scipy.ndimage.zoom`` with ``order=1`` would sample without
      averaging).
    - ``size > 256`` (512, 1024): bilinear interpolation at the output pixel
      centres. The result holds no more detail than the 256 x 256 slice; it
      only serves the scale tests of large problems (e.g. 1024 x 1024 MRI
      sampling), not as a high-resolution ground truth.

    Examples
    --------
    >>> images = brain_slices(4, size=64)
    >>> len(images), images[0].shape, images[0].dtype.name
    (4, (64, 64), 'float64')
    >>> bool(min(im.min() for im in images) >= 0.0 and max(im.max() for im in images) <= 1.0)
    True
    >>> (middle,) = brain_slices(indices=[90])
    >>> middle.shape
    (256, 256)
    """
    available, images = _load()
    size = _check_size(size)
    if n is not None and indices is not None:
        raise ValueError("give at most one of `n` and `indices`")
    if indices is not None:
        positions = _positions(indices, available)
    elif n is not None:
        positions = _spread(_check_count(n, "n", 1, len(available)), len(available))
    else:
        positions = range(len(available))
    return [_resize(images[p].astype(np.float64) / 255.0, size) for p in positions]


def brain_split_indices(n_train, n_test, *, rng=None):
    """Return disjoint, interleaved training and test slice indices.

    ``n_train + n_test`` embedded slices are chosen (evenly spread over the
    brain when ``rng`` is None, at random otherwise), sorted from inferior to
    superior, and every ``(n_train + n_test) / n_test``-th of them, starting
    half a period in, goes to the test set. Both sets thus span the whole
    brain, and no slice is in both.

    Parameters
    ----------
    n_train, n_test : int
        Numbers of training and test slices, non-negative, with
        ``1 <= n_train + n_test <= 24``.
    rng : numpy.random.Generator or int or None, optional
        None gives the deterministic, evenly spread choice; a generator or seed
        draws which slices are used (the interleaving stays the same).

    Returns
    -------
    train, test : tuple of int
        Template axial indices (values of :func:`available_brain_slices`),
        increasing.

    Raises
    ------
    TypeError, ValueError
        For non-integer or out-of-range counts, naming the argument.

    Examples
    --------
    >>> brain_split_indices(4, 2)
    ((25, 70, 95, 140), (50, 115))
    """
    available = available_brain_slices()
    n_all = len(available)
    n_train = _check_count(n_train, "n_train", 0, n_all)
    n_test = _check_count(n_test, "n_test", 0, n_all)
    total = n_train + n_test
    if not 1 <= total <= n_all:
        raise ValueError(
            f"`n_train + n_test` must lie in [1, {n_all}] (the embedded slices), got {total}; "
            "use load_template_slices for more"
        )
    if rng is None:
        chosen = _spread(total, n_all)
    else:
        chosen = np.sort(as_generator(rng).choice(n_all, size=total, replace=False))
    is_test = np.zeros(total, dtype=bool)
    if n_test:
        is_test[np.floor((np.arange(n_test) + 0.5) * (total / n_test)).astype(np.intp)] = True
    train = tuple(available[p] for p in chosen[~is_test])
    test = tuple(available[p] for p in chosen[is_test])
    return train, test


def brain_train_test(n_train, n_test, *, size=256, rng=None):
    """Return training and held-out test brain slices from different, interleaved planes.

    The slices are those of :func:`brain_split_indices` (see there for the
    choice and the interleaving), as images of :func:`brain_slices`.

    Parameters
    ----------
    n_train, n_test : int
        Numbers of training and test slices (``n_train + n_test <= 24``).
    size : int, optional
        Side of the square images (see :func:`brain_slices`).
    rng : numpy.random.Generator or int or None, optional
        None: deterministic, evenly spread slices; otherwise a random choice.

    Returns
    -------
    train, test : list of numpy.ndarray
        float64 images in [0, 1] of shape ``(size, size)``, inferior first.

    Raises
    ------
    TypeError, ValueError
        For bad counts or ``size``, naming the argument.

    Examples
    --------
    >>> train, test = brain_train_test(6, 2, size=64)
    >>> len(train), len(test), test[0].shape
    (6, 2, (64, 64))
    """
    size = _check_size(size)
    train_idx, test_idx = brain_split_indices(n_train, n_test, rng=rng)
    train = brain_slices(indices=train_idx, size=size) if train_idx else []
    test = brain_slices(indices=test_idx, size=size) if test_idx else []
    return train, test


# --------------------------------------------------------------------------- full template


def _template_path():
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "load_template_slices(path=None) reads the MNI ICBM152 template bundled with "
            "nilearn, which is not installed: `pip install nilearn nibabel`, or pass `path`"
        )
    root = pathlib.Path(next(iter(spec.submodule_search_locations)))
    path = root / "datasets" / "data" / _TEMPLATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"nilearn is installed but {path} is missing; pass `path`")
    return path


def _canvas(plane):
    """Zero-pad or crop a 2-D array to ``_CANVAS x _CANVAS``, centred."""
    out = np.zeros((_CANVAS, _CANVAS))
    src, dst = [], []
    for n in plane.shape:
        if n <= _CANVAS:
            start = (_CANVAS - n) // 2
            src.append(slice(0, n))
            dst.append(slice(start, start + n))
        else:
            start = (n - _CANVAS) // 2
            src.append(slice(start, start + _CANVAS))
            dst.append(slice(0, _CANVAS))
    out[tuple(dst)] = plane[tuple(src)]
    return out


def load_template_slices(
    path=None, *, axis=2, indices=None, size=256, min_coverage=0.3, scale=None
):
    """Read 2-D slices of the full MNI ICBM152 T1 template (or another NIfTI volume).

    Reads the volume with nibabel (imported here, not with the package),
    reorients it to RAS, takes planes normal to ``axis``, shows each with its
    second in-plane axis reversed (anterior or superior at the top), and
    zero-pads or crops it, centred, to 256 x 256 pixels (one voxel, one pixel;
    no resampling of anisotropic voxels). Intensities are divided by the fixed
    ``scale`` and clipped to [0, 1]. With the defaults on the template these
    are exactly the images of :func:`brain_slices`.

    Parameters
    ----------
    path : str or os.PathLike or None, optional
        NIfTI file to read. None reads the template
        ``mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz`` from the
        installed nilearn package (no download).
    axis : {0, 1, 2}, optional
        Normal of the slices in RAS voxel axes: 2 axial (default), 1 coronal,
        0 sagittal.
    indices : sequence of int or None, optional
        Voxel indices along ``axis``. None takes every slice whose brain area
        (pixels above 0.05 after scaling) is at least ``min_coverage`` times
        the largest one along ``axis``.
    size : int, optional
        Side of the square output (16 to 1024), resized from 256 as in
        :func:`brain_slices`.
    min_coverage : float, optional
        Threshold in [0, 1] that skips near-empty slices when ``indices`` is
        None; ignored otherwise.
    scale : float or None, optional
        Positive intensity that maps to 1; None uses the volume's maximum
        (255 for the template).

    Returns
    -------
    slices : list of numpy.ndarray
        float64 images in [0, 1] of shape ``(size, size)``.
    indices : numpy.ndarray of int
        The voxel index along ``axis`` of each slice.

    Raises
    ------
    ImportError
        If nibabel is not installed, or nilearn when ``path`` is None.
    TypeError, ValueError
        For bad arguments (naming them) or a volume that is not 3-D.

    Notes
    -----
    The template is under the copyright notice :data:`TEMPLATE_NOTICE`, which
    must be kept with every copy of its slices.

    Examples
    --------
    >>> slices, idx = load_template_slices(indices=[90])  # doctest: +SKIP
    >>> bool(np.array_equal(slices[0], brain_slices(indices=[90])[0]))  # doctest: +SKIP
    True
    """
    if isinstance(axis, bool) or axis not in (0, 1, 2):
        raise ValueError(f"`axis` must be 0, 1 or 2, got {axis!r}")
    size = _check_size(size)
    min_coverage = as_float(min_coverage, "min_coverage")
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"`min_coverage` must lie in [0, 1], got {min_coverage}")
    if scale is not None:
        scale = as_float(scale, "scale")
        if scale <= 0:
            raise ValueError(f"`scale` must be positive, got {scale}")
    try:
        import nibabel
    except ImportError as err:
        raise ImportError(
            "load_template_slices needs nibabel to read NIfTI volumes: `pip install nibabel`"
        ) from err
    path = _template_path() if path is None else pathlib.Path(path)
    image = nibabel.as_closest_canonical(nibabel.load(path))
    volume = np.asarray(image.dataobj)
    if volume.ndim != 3:
        raise ValueError(f"`path` must hold a 3-D volume, got shape {volume.shape}")
    if scale is None:
        scale = float(volume.max())
        if not scale > 0:
            raise ValueError(f"`path` holds no positive intensity (maximum {scale})")
    volume = np.moveaxis(volume, axis, 0)
    count = volume.shape[0]
    if indices is None:
        area = (volume > _FOREGROUND * scale).sum(axis=(1, 2))
        indices = np.flatnonzero(area >= min_coverage * max(area.max(), 1))
    else:
        if isinstance(indices, numbers.Integral) and not isinstance(indices, bool):
            indices = (indices,)
        try:
            indices = tuple(indices)
        except TypeError:
            raise TypeError(
                f"`indices` must be a sequence of ints or None, got {indices!r}"
            ) from None
        for k in indices:
            if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k < count:
                raise ValueError(f"`indices` must be ints in [0, {count}), got {k!r}")
        indices = np.array(indices, dtype=np.intp)
    slices = []
    for k in indices:
        plane = np.clip(np.asarray(volume[k], dtype=np.float64) / scale, 0.0, 1.0)
        slices.append(_resize(_canvas(plane.T[::-1, :]), size))
    return slices, np.asarray(indices, dtype=np.intp)
