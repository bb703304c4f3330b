"""psnr: closed-form values, invariances, monotonicity, validation, skimage agreement."""

import numpy as np
import odl
import pytest

from odl_bilevel.metrics import psnr


@pytest.fixture
def image(rng):
    return rng.uniform(size=(24, 30))


def test_identical_is_infinite(image):
    assert psnr(image, image) == float("inf")


def test_closed_form(image):
    ref = np.linspace(0.0, 2.0, 40)
    # mse 0.04, range 2 -> 10 log10(4 / 0.04) = 20 dB
    assert psnr(ref + 0.2, ref) == pytest.approx(20.0, abs=1e-12)
    assert psnr(ref + 0.2, ref, data_range=1.0) == pytest.approx(10 * np.log10(25.0), abs=1e-12)


def test_default_data_range_is_reference_range(image, rng):
    x = image + 0.05 * rng.standard_normal(image.shape)
    expected = psnr(x, image, data_range=float(image.max() - image.min()))
    assert psnr(x, image) == expected


def test_symmetric_with_fixed_range(image, rng):
    x = image + 0.1 * rng.standard_normal(image.shape)
    assert psnr(x, image, data_range=1.0) == pytest.approx(psnr(image, x, data_range=1.0))


def test_invariant_to_affine_rescaling_of_both(image, rng):
    x = image + 0.1 * rng.standard_normal(image.shape)
    assert psnr(3.0 * x - 2.0, 3.0 * image - 2.0) == pytest.approx(psnr(x, image), abs=1e-10)


def test_decreases_with_noise_level(image, rng):
    noise = rng.standard_normal(image.shape)
    values = [psnr(image + s * noise, image, data_range=1.0) for s in (0.01, 0.05, 0.1, 0.3)]
    assert np.all(np.diff(values) < 0)
    # doubling the error costs 20 log10(2) dB exactly
    assert values[1] - values[2] == pytest.approx(20 * np.log10(2.0), abs=1e-10)


def test_accepts_odl_elements_and_1d(rng):
    space = odl.uniform_discr(0, 16, 16)
    ref = rng.uniform(size=16)
    x = ref + 0.1
    assert psnr(space.element(x), space.element(ref)) == pytest.approx(psnr(x, ref))


@pytest.mark.parametrize(
    ("x", "ref", "kwargs", "name"),
    [
        (np.zeros(4), np.zeros(5), {}, "`x`"),
        (np.zeros(4), np.ones(4), {}, "`data_range`"),
        (np.zeros(4), np.arange(4.0), {"data_range": -1.0}, "`data_range`"),
        (np.array([0.0, np.nan]), np.arange(2.0), {}, "`x`"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), {}, "`reference`"),
    ],
)
def test_errors_name_the_argument(x, ref, kwargs, name):
    with pytest.raises(ValueError, match=name):
        psnr(x, ref, **kwargs)


def test_agrees_with_scikit_image(image, rng):
    metrics = pytest.importorskip("skimage.metrics")
    x = image + 0.07 * rng.standard_normal(image.shape)
    expected = metrics.peak_signal_noise_ratio(image, x, data_range=1.0)
    assert psnr(x, image, data_range=1.0) == pytest.approx(expected, rel=1e-12)
