"""bump_image: values, support, symmetry, maximum at the centre, validation."""

import numpy as np
import pytest

from odl_bilevel.datasets import bump_image


def _reference(size, radius, centre):
    out = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            r = np.hypot(i - centre[0], j - centre[1]) / radius
            if r < 1:
                out[i, j] = np.exp(1.0 - 1.0 / (1.0 - r * r))
    return out


@pytest.mark.parametrize(
    ("size", "radius", "centre"),
    [(17, 5.0, None), (16, 6.5, (3.0, 9.25)), (12, 20.0, (-2.0, 4.0))],
)
def test_values_match_the_formula(size, radius, centre):
    x = bump_image(size, radius=radius, centre=centre)
    c = ((size - 1) / 2,) * 2 if centre is None else centre
    assert x.shape == (size, size)
    assert x.dtype == np.float64
    np.testing.assert_allclose(x, _reference(size, radius, c), rtol=1e-9, atol=1e-14)


def test_support_is_the_open_disc():
    size, radius, centre = 33, 7.0, (16.0, 12.0)
    x = bump_image(size, radius=radius, centre=centre)
    i, j = np.mgrid[0:size, 0:size]
    dist = np.hypot(i - centre[0], j - centre[1])
    assert np.all(x[dist >= radius] == 0.0)
    assert np.all(x[dist < radius] > 0.0)
    assert x[16, 19] == 0.0  # exactly on the circle r = 1
    assert x.min() >= 0.0 and x.max() <= 1.0


@pytest.mark.parametrize("size", [16, 31])
def test_default_bump_is_centred_and_symmetric(size):
    x = bump_image(size)
    assert np.array_equal(x, x[::-1, :])
    assert np.array_equal(x, x[:, ::-1])
    assert np.array_equal(x, x.T)
    # default radius size/4: the support is a disc of diameter size/2
    assert np.count_nonzero(x[size // 2]) == pytest.approx(size / 2, abs=2)


def test_maximum_one_at_the_centre_and_radially_decreasing():
    x = bump_image(21, radius=8.0)
    assert x[10, 10] == 1.0
    assert np.unravel_index(np.argmax(x), x.shape) == (10, 10)
    assert np.all(np.diff(x[10, 10:]) <= 0.0)
    assert np.all(np.diff(x[10, 10:18]) < 0.0)
    # between pixels the maximum is below 1 but the four middle pixels share it
    y = bump_image(20, radius=8.0)
    assert y.max() < 1.0
    assert y[9, 9] == y[10, 10] == y[9, 10] == y.max()


def test_off_grid_centre_shifts_the_bump():
    x = bump_image(24, radius=5.0, centre=(6.0, 15.0))
    assert np.unravel_index(np.argmax(x), x.shape) == (6, 15)
    assert x[6, 15] == 1.0
    np.testing.assert_array_equal(x[6 - 3, 15], x[6 + 3, 15])


def test_returns_a_new_array():
    a = bump_image(8)
    a[:] = -1.0
    assert bump_image(8).min() >= 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 0}, ValueError, "size"),
        ({"size": 8.0}, TypeError, "size"),
        ({"size": True}, TypeError, "size"),
        ({"size": 8, "radius": 0.0}, ValueError, "radius"),
        ({"size": 8, "radius": -1.0}, ValueError, "radius"),
        ({"size": 8, "radius": np.inf}, ValueError, "radius"),
        ({"size": 8, "radius": "2"}, TypeError, "radius"),
        ({"size": 8, "centre": (1.0,)}, TypeError, "centre"),
        ({"size": 8, "centre": 3.0}, TypeError, "centre"),
        ({"size": 8, "centre": "ab"}, TypeError, "centre"),
        ({"size": 8, "centre": (1.0, np.nan)}, ValueError, "centre"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        bump_image(**kwargs)
