"""ssim: known properties of Wang et al. (2004) and agreement with scikit-image."""

import numpy as np
import odl
import pytest

from odl_bilevel.metrics import ssim

WANG = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


@pytest.fixture
def image(rng):
    # smooth-ish structure plus texture, in [0, 1]
    t = np.linspace(0, 3 * np.pi, 40)
    base = 0.5 + 0.3 * np.sin(t)[:, None] * np.cos(0.7 * t)[None, :]
    return np.clip(base + 0.1 * rng.uniform(size=(40, 40)), 0, 1)


@pytest.fixture
def noisy(image, rng):
    return image + 0.1 * rng.standard_normal(image.shape)


def test_identical_is_one(image):
    assert ssim(image, image) == 1.0
    assert ssim(image[5], image[5]) == 1.0


def test_symmetric_with_fixed_range(image, noisy):
    assert ssim(noisy, image, data_range=1.0) == pytest.approx(ssim(image, noisy, data_range=1.0))


def test_bounded_and_decreasing_in_noise(image, rng):
    noise = rng.standard_normal(image.shape)
    values = [ssim(image + s * noise, image, data_range=1.0) for s in (0.0, 0.02, 0.05, 0.1, 0.3)]
    assert values[0] == 1.0
    assert np.all(np.diff(values) < 0)
    assert -1.0 <= values[-1] < 1.0


def test_scale_invariance_with_default_range(image, noisy):
    assert ssim(5.0 * noisy, 5.0 * image) == pytest.approx(ssim(noisy, image), rel=1e-12)


def test_invariant_under_flips_and_transpose_of_both(image, noisy):
    value = ssim(noisy, image, data_range=1.0)
    for op in (np.flipud, np.fliplr, np.transpose):
        assert ssim(op(noisy), op(image), data_range=1.0) == pytest.approx(value, rel=1e-12)


def test_structure_term_penalises_contrast_loss(image):
    mean = image.mean()
    faded = mean + 0.5 * (image - mean)
    inverted = 1.0 - image
    assert ssim(faded, image) < 1.0
    assert ssim(inverted, image) < ssim(faded, image)


def _brute_force_ssim(x, y, data_range, sigma=1.5, radius=5):
    """The paper's definition, window by window over the 'valid' pixels."""
    t = np.arange(-radius, radius + 1)
    g = np.exp(-(t**2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(radius, x.shape[0] - radius):
        for j in range(radius, x.shape[1] - radius):
            px = x[i - radius : i + radius + 1, j - radius : j + radius + 1]
            py = y[i - radius : i + radius + 1, j - radius : j + radius + 1]
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
            cxy = (w * (px - mx) * (py - my)).sum()
            values.append(
                (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
            )
    return float(np.mean(values))


def test_matches_the_definition_window_by_window(image, noisy):
    x, ref = noisy[:17, 3:22], image[:17, 3:22]
    expected = _brute_force_ssim(x, ref, 1.0)
    assert ssim(x, ref, data_range=1.0) == pytest.approx(expected, abs=1e-12)


def test_accepts_odl_elements(image, noisy):
    space = odl.uniform_discr([0, 0], [40, 40], (40, 40))
    assert ssim(space.element(noisy), space.element(image)) == pytest.approx(ssim(noisy, image))


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"win_size": 10}, "`win_size`", ValueError),
        ({"win_size": 41}, "`win_size`", ValueError),
        ({"win_size": 7.0}, "`win_size`", TypeError),
        ({"window": "box"}, "`window`", ValueError),
        ({"sigma": 0.0}, "`sigma`", ValueError),
        ({"data_range": 0.0}, "`data_range`", ValueError),
        ({"sample_covariance": 1}, "`sample_covariance`", TypeError),
    ],
)
def test_errors_name_the_argument(image, noisy, kwargs, name, error):
    with pytest.raises(error, match=name):
        ssim(noisy, image, **kwargs)


def test_shape_mismatch_names_x(image):
    with pytest.raises(ValueError, match="`x`"):
        ssim(image[:-1], image)


@pytest.mark.parametrize("ndim", [1, 2])
def test_agrees_with_scikit_image_wang_settings(image, noisy, ndim):
    metrics = pytest.importorskip("skimage.metrics")
    ref, x = (image, noisy) if ndim == 2 else (image[7], noisy[7])
    expected = metrics.structural_similarity(x, ref, data_range=1.0, **WANG)
    assert ssim(x, ref, data_range=1.0) == pytest.approx(expected, abs=1e-9)
    # default range = reference range
    rng_ref = float(ref.max() - ref.min())
    expected = metrics.structural_similarity(x, ref, data_range=rng_ref, **WANG)
    assert ssim(x, ref) == pytest.approx(expected, abs=1e-9)


def test_agrees_with_scikit_image_other_windows(image, noisy):
    metrics = pytest.importorskip("skimage.metrics")
    # scikit-image's default: 7x7 uniform window, sample covariance
    expected = metrics.structural_similarity(noisy, image, data_range=1.0)
    value = ssim(
        noisy, image, data_range=1.0, window="uniform", win_size=7, sample_covariance=True
    )
    assert value == pytest.approx(expected, abs=1e-9)
    # a narrower Gaussian: skimage truncates at 3.5 sigma -> radius 4, i.e. win_size 9
    expected = metrics.structural_similarity(
        noisy, image, data_range=1.0, gaussian_weights=True, sigma=1.0, use_sample_covariance=False
    )
    assert ssim(noisy, image, data_range=1.0, sigma=1.0, win_size=9) == pytest.approx(
        expected, abs=1e-9
    )
