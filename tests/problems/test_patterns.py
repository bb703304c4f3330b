"""Fixed MRI sampling patterns: counts, structure, randomness and input validation."""

import numpy as np
import pytest
from scipy.optimize import brentq

from odl_bilevel.problems import (
    binary_pattern,
    data_adapted_pattern,
    line_pattern,
    pattern_rate,
    peak_interference,
    uniform_random_pattern,
    variable_density_pattern,
)

RANDOM = [uniform_random_pattern, variable_density_pattern]
SHAPES = [(16, 16), (12, 20), (15, 9), (32,)]
RATES = [1e-4, 0.1, 0.25, 0.37, 0.5, 1.0]


def _k(rate, m):
    return max(1, round(rate * m))


def _is_binary(s):
    return s.dtype == np.float64 and bool(np.all((s == 0.0) | (s == 1.0)))


def _is_cartesian(s):
    return bool(np.all(s == s[:, :1])) if s.ndim == 2 else True


# ------------------------------------------------------------------------------------------
# pattern_rate, binary_pattern, line_pattern
# ------------------------------------------------------------------------------------------


def test_pattern_rate_counts_nonzeros():
    assert pattern_rate(np.zeros((4, 4))) == 0.0
    assert pattern_rate(np.ones(7)) == 1.0
    s = np.zeros((4, 5))
    s[1, 2], s[3, 0], s[0, 0] = 0.5, 1.0, 1e-12
    assert pattern_rate(s) == 3 / 20
    assert pattern_rate(np.array([True, False])) == 0.5
    assert isinstance(pattern_rate(s), float)


@pytest.mark.parametrize("shape", [(16, 16), (7, 3), (10,), (2, 3, 4)])
@pytest.mark.parametrize("rate", RATES)
def test_binary_pattern_picks_the_k_largest(shape, rate):
    w = np.random.default_rng(0).random(shape)
    b = binary_pattern(w, rate)
    k = _k(rate, w.size)
    assert b.shape == w.shape and _is_binary(b)
    assert int(b.sum()) == k
    assert w[b == 1].min() >= w[b == 0].max(initial=-np.inf)
    assert pattern_rate(b) == k / w.size


def test_binary_pattern_ties_and_rounding():
    assert binary_pattern(np.zeros(6), 0.5).tolist() == [1, 1, 1, 0, 0, 0]
    w = np.array([[0.0, 2.0], [2.0, 1.0]])
    assert binary_pattern(w, 0.25).tolist() == [[0, 1], [0, 0]]  # tie -> smaller flat index
    assert binary_pattern(w, 0.75).tolist() == [[0, 1], [1, 1]]
    assert binary_pattern(np.arange(10.0), 0.25).sum() == 2  # round(2.5) = 2 (half to even)
    assert binary_pattern(np.arange(10.0), 0.35).sum() == 4  # round(3.5) = 4
    assert binary_pattern(np.arange(10.0), 0.01).sum() == 1  # at least one sample
    assert binary_pattern(-np.arange(4.0), 0.5).tolist() == [1, 1, 0, 0]  # any real scores


def test_binary_pattern_does_not_modify_input():
    w = np.array([0.3, 0.1, 0.2])
    binary_pattern(w, 0.5)
    assert w.tolist() == [0.3, 0.1, 0.2]


def test_line_pattern_spreads_lines():
    lines = np.array([1.0, 0.0, 0.5, 1.0])
    s = line_pattern(lines, (4, 3))
    assert s.dtype == np.float64 and s.shape == (4, 3) and s.flags.writeable
    assert np.array_equal(s, np.repeat(lines[:, None], 3, axis=1))
    assert np.array_equal(line_pattern(lines, 4), lines)
    assert np.array_equal(line_pattern([True, False], (2, 2)), [[1, 1], [0, 0]])
    s[0, 0] = 0.0  # a real array, not a broadcast view
    assert s[0, 1] == 1.0


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 1.0])
def test_line_and_binary_pattern_round_trip(rate):
    shape = (12, 7)
    lines = binary_pattern(np.random.default_rng(1).random(shape[0]), rate)
    s = line_pattern(lines, shape)
    assert np.array_equal(s[:, 0], lines) and _is_cartesian(s)
    assert pattern_rate(s) == pattern_rate(lines) == _k(rate, shape[0]) / shape[0]
    # thresholding a binary Cartesian pattern at its own rate gives it back
    assert np.array_equal(binary_pattern(s, pattern_rate(s)), s)
    assert np.array_equal(binary_pattern(lines, pattern_rate(lines)), lines)


# ------------------------------------------------------------------------------------------
# random patterns
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rate", RATES)
def test_random_patterns_exact_count_binary_and_dc(make, shape, rate):
    s = make(shape, rate, rng=3)
    m = int(np.prod(shape))
    assert s.shape == shape and _is_binary(s)
    assert int(s.sum()) == _k(rate, m)
    assert pattern_rate(s) == _k(rate, m) / m
    assert s.flat[0] == 1.0  # DC (index 0, unshifted)


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (15, 9), (8,)])
@pytest.mark.parametrize("rate", [1e-4, 0.25, 0.6, 1.0])
def test_random_patterns_cartesian_lines(make, shape, rate):
    s = make(shape, rate, cartesian=True, rng=5)
    assert s.shape == shape and _is_binary(s) and _is_cartesian(s)
    lines = s[:, 0] if s.ndim == 2 else s
    assert int(lines.sum()) == _k(rate, shape[0])
    assert pattern_rate(s) == _k(rate, shape[0]) / shape[0]
    assert lines[0] == 1.0  # DC line


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("cartesian", [False, True])
def test_random_patterns_seeded(make, cartesian):
    a = make((16, 16), 0.3, cartesian=cartesian, rng=11)
    b = make((16, 16), 0.3, cartesian=cartesian, rng=11)
    c = make((16, 16), 0.3, cartesian=cartesian, rng=12)
    d = make((16, 16), 0.3, cartesian=cartesian, rng=np.random.default_rng(11))
    assert np.array_equal(a, b)
    assert np.array_equal(a, d)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("make", RANDOM)
def test_random_patterns_generator_advances(make):
    gen = np.random.default_rng(0)
    a = make((16, 16), 0.3, rng=gen)
    b = make((16, 16), 0.3, rng=gen)
    assert not np.array_equal(a, b)
    assert make((16, 16), 0.3, rng=None).sum() == _k(0.3, 256)


def test_uniform_random_pattern_is_uniform_off_dc():
    counts = sum(uniform_random_pattern((8, 8), 0.25, rng=seed) for seed in range(400))
    off_dc = counts.ravel()[1:] / 400
    expected = (16 - 1) / 63  # k - 1 draws among the 63 other pixels
    assert abs(off_dc.mean() - expected) < 1e-12
    assert np.abs(off_dc - expected).max() < 0.12  # ~5 standard deviations


def _radius(shape):
    grids = np.meshgrid(*[2.0 * np.fft.fftfreq(n) for n in shape], indexing="ij")
    r = np.sqrt(sum(g**2 for g in grids))
    return r / r.max()


@pytest.mark.parametrize("shape", [(32, 32), (24, 40)])
def test_variable_density_prefers_low_frequencies(shape):
    n = 30
    hits = sum(variable_density_pattern(shape, 0.25, rng=seed) for seed in range(n)) / n
    r = _radius(shape)
    low, high = hits[(r > 0) & (r < 0.25)].mean(), hits[r > 0.6].mean()
    assert low > 0.5 and high < 0.2 and low > 3 * high
    # the hit frequency decreases with the distance to DC, band by band
    bands = [hits[(r >= a) & (r < a + 0.2)].mean() for a in (0.0, 0.2, 0.4, 0.6, 0.8)]
    assert all(x > y for x, y in zip(bands, bands[1:], strict=False))
    # and is symmetric under k -> -k (the density depends on |k| only)
    flipped = np.roll(np.flip(hits, axis=(0, 1)), 1, axis=(0, 1))
    assert np.abs(hits - flipped).mean() < 0.1


def _lustig_density(radius, power, total):
    """Lustig's clipped polynomial density with sum ``total``, the offset by brentq."""
    base = (1 - radius) ** power
    offset = brentq(lambda c: np.clip(base + c, 0, 1).sum() - total, -1.0, 1.0, xtol=1e-14)
    return np.clip(base + offset, 0, 1)


@pytest.mark.parametrize(("rate", "power"), [(0.05, 3.0), (0.25, 3.0), (0.25, 1.5)])
@pytest.mark.parametrize("cartesian", [False, True])
def test_variable_density_inclusion_probabilities_are_the_density(rate, power, cartesian):
    shape, n = ((64, 4), 200) if cartesian else ((16, 16), 200)
    hits = (
        sum(
            variable_density_pattern(shape, rate, power=power, cartesian=cartesian, rng=seed)
            for seed in range(n)
        )
        / n
    )
    hits = hits[:, 0] if cartesian else hits.ravel()
    radius = _radius(shape[:1] if cartesian else shape).ravel()
    k = _k(rate, radius.size)
    p = _lustig_density(radius[1:], power, k - 1)
    assert hits[0] == 1.0
    z = (hits[1:] - p) / np.sqrt(np.maximum(p * (1 - p), 1e-2) / n)
    assert np.abs(z).max() < 5.0
    assert np.all(hits[1:][p == 0] == 0)


def test_variable_density_cartesian_prefers_central_lines():
    n, shape = 40, (32, 8)
    hits = sum(variable_density_pattern(shape, 0.25, cartesian=True, rng=s) for s in range(n))
    lines = hits[:, 0] / n
    dist = np.abs(np.fft.fftfreq(shape[0]))
    assert lines[(dist > 0) & (dist < 0.12)].mean() > 3 * lines[dist > 0.3].mean()


def _vd_density(shape, rate, power=3.0):
    radius = _radius(shape).ravel()
    k = _k(rate, radius.size)
    return np.concatenate(([1.0], _lustig_density(radius[1:], power, k - 1))).reshape(shape)


def test_peak_interference_is_the_largest_off_origin_psf_modulus():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.2, 1.0, (8, 6))
    s = (rng.random((8, 6)) < p).astype(float)
    # the transform point-spread function by an explicit inverse DFT matrix
    f0, f1 = (np.exp(2j * np.pi * np.outer(np.arange(n), np.arange(n)) / n) / n for n in (8, 6))
    psf = np.abs(f0 @ (s / p) @ f1.T)
    assert peak_interference(s, p) == pytest.approx(psf.ravel()[1:].max(), rel=1e-12)
    assert peak_interference(np.ones((8, 6)), np.ones((8, 6))) == pytest.approx(0.0, abs=1e-15)
    # entries with density 0 are never sampled and contribute nothing
    p[0, 1], s[0, 1] = 0.0, 0.0
    assert np.isfinite(peak_interference(s, p))


@pytest.mark.parametrize(
    ("pattern", "density", "match"),
    [
        (np.ones(4), np.ones(5), "same shape"),
        (np.ones(1), np.ones(1), "at least 2"),
        (np.array([1.0, 1, 0, 0]), np.array([1.0, 0, 0.5, 0.5]), "density` is 0"),
        (np.array([1.0, 2, 0, 0]), np.full(4, 0.5), "`pattern` must lie in"),
        (np.ones(4), np.array([1.0, 1, 1, np.nan]), "`density` contains NaN"),
    ],
)
def test_peak_interference_rejects(pattern, density, match):
    with pytest.raises(ValueError, match=match):
        peak_interference(pattern, density)


@pytest.mark.parametrize("cartesian", [False, True])
def test_variable_density_trials_keep_the_least_interfering_draw(cartesian):
    shape, rate, trials = ((64, 4), 0.25, 6) if cartesian else ((24, 24), 0.25, 6)
    grid = shape[:1] if cartesian else shape
    density = _vd_density(grid, rate)

    def level(s):
        return peak_interference(s[:, 0] if cartesian else s, density)

    best = variable_density_pattern(shape, rate, cartesian=cartesian, trials=trials, rng=5)
    # the same generator state drawn one pattern at a time gives the candidates
    gen = np.random.default_rng(5)
    draws = [
        variable_density_pattern(shape, rate, cartesian=cartesian, rng=gen) for _ in range(trials)
    ]
    levels = [level(s) for s in draws]
    np.testing.assert_array_equal(best, draws[int(np.argmin(levels))])
    assert pattern_rate(best) == pattern_rate(draws[0])
    # trials=1 is the plain first draw
    np.testing.assert_array_equal(
        variable_density_pattern(shape, rate, cartesian=cartesian, trials=1, rng=5), draws[0]
    )


def test_variable_density_trials_lower_the_interference_on_average():
    shape, rate = (32, 32), 0.2
    density = _vd_density(shape, rate)
    plain = [
        peak_interference(variable_density_pattern(shape, rate, rng=s), density) for s in range(20)
    ]
    chosen = [
        peak_interference(variable_density_pattern(shape, rate, trials=10, rng=s), density)
        for s in range(20)
    ]
    assert np.mean(chosen) < np.mean(plain) and np.max(chosen) <= np.max(plain)


@pytest.mark.parametrize(
    ("trials", "error"), [(0, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_variable_density_rejects_trials(trials, error):
    with pytest.raises(error, match="`trials`"):
        variable_density_pattern((8, 8), 0.5, trials=trials, rng=0)


def test_uniform_pattern_reaches_high_frequencies_more_than_variable_density():
    r = _radius((32, 32))
    uni = np.mean([r[uniform_random_pattern((32, 32), 0.2, rng=s) == 1].mean() for s in range(5)])
    vd = np.mean([r[variable_density_pattern((32, 32), 0.2, rng=s) == 1].mean() for s in range(5)])
    assert uni > 1.3 * vd


# ------------------------------------------------------------------------------------------
# data-adapted pattern
# ------------------------------------------------------------------------------------------


def _images(n, shape, seed=0):
    gen = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(-1, 1, k) for k in shape], indexing="ij")
    r2 = sum(g**2 for g in grids)
    return [np.exp(-r2 / (0.1 + 0.3 * gen.random())) + 0.1 * gen.random(shape) for _ in range(n)]


@pytest.mark.parametrize("shape", [(16, 16), (12, 20), (24,)])
@pytest.mark.parametrize("rate", [1e-4, 0.1, 0.3, 1.0])
def test_data_adapted_picks_largest_mean_magnitude(shape, rate):
    images = _images(3, shape)
    s = data_adapted_pattern(images, rate)
    mag = np.mean([np.abs(np.fft.fftn(x, norm="ortho")) for x in images], axis=0)
    k = _k(rate, mag.size)
    assert s.shape == shape and _is_binary(s) and int(s.sum()) == k
    order = np.argsort(-mag.ravel(), kind="stable")
    expected = np.zeros(mag.size)
    expected[order[:k]] = 1.0
    assert np.array_equal(s.ravel(), expected)
    assert mag[s == 1].min() >= mag[s == 0].max(initial=-np.inf)


@pytest.mark.parametrize("shape", [(16, 16), (12, 20)])
@pytest.mark.parametrize("rate", [1e-4, 0.25, 0.5, 1.0])
def test_data_adapted_cartesian_picks_most_energetic_lines(shape, rate):
    images = _images(2, shape, seed=1)
    s = data_adapted_pattern(images, rate, cartesian=True)
    energy = np.mean(
        [np.sum(np.abs(np.fft.fftn(x, norm="ortho")) ** 2, axis=1) for x in images], axis=0
    )
    k = _k(rate, shape[0])
    assert s.shape == shape and _is_binary(s) and _is_cartesian(s)
    assert int(s[:, 0].sum()) == k
    assert energy[s[:, 0] == 1].min() >= energy[s[:, 0] == 0].max(initial=-np.inf)

    # by Parseval, these lines minimise the zero-filled error among all k-line patterns
    def zero_filled_error(mask):
        return sum(np.sum(np.abs(np.fft.fftn(x, norm="ortho") * (1 - mask)) ** 2) for x in images)

    rng = np.random.default_rng(0)
    for _ in range(5):
        other = line_pattern(binary_pattern(rng.random(shape[0]), rate), shape)
        assert zero_filled_error(s) <= zero_filled_error(other) + 1e-9


def test_data_adapted_accepts_stacks_and_elements():
    images = _images(2, (8, 8))
    a = data_adapted_pattern(images, 0.3)
    assert np.array_equal(data_adapted_pattern(np.stack(images), 0.3), a)
    assert np.array_equal(data_adapted_pattern(tuple(images), 0.3), a)


def test_data_adapted_dc_first_for_positive_images():
    s = data_adapted_pattern(_images(2, (16, 16)), 1e-4)
    assert s[0, 0] == 1.0 and s.sum() == 1


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        (np.array([0.5, np.nan]), ValueError),
        (np.array([0.5, np.inf]), ValueError),
        (np.array([0.5, 1.5]), ValueError),
        (np.array([-0.1, 0.5]), ValueError),
        (np.zeros(0), ValueError),
        (np.float64(0.5), ValueError),
        (np.array([1 + 1j]), TypeError),
        (np.array(["a"]), TypeError),
    ],
)
def test_pattern_rate_rejects(pattern, error):
    with pytest.raises(error, match="`pattern`"):
        pattern_rate(pattern)


BAD_RATES = [
    (0.0, ValueError),
    (-0.1, ValueError),
    (1.01, ValueError),
    (np.nan, ValueError),
    (np.inf, ValueError),
    ("0.5", TypeError),
    (None, TypeError),
    (True, TypeError),
]


@pytest.mark.parametrize(("rate", "error"), BAD_RATES)
def test_every_function_rejects_bad_rate(rate, error):
    with pytest.raises(error, match="`rate`"):
        binary_pattern(np.ones(4), rate)
    with pytest.raises(error, match="`rate`"):
        uniform_random_pattern((4, 4), rate, rng=0)
    with pytest.raises(error, match="`rate`"):
        variable_density_pattern((4, 4), rate, rng=0)
    with pytest.raises(error, match="`rate`"):
        data_adapted_pattern([np.ones((4, 4))], rate)


@pytest.mark.parametrize(
    ("weights", "error"),
    [
        (np.array([1.0, np.nan]), ValueError),
        (np.zeros((0, 3)), ValueError),
        (3.0, ValueError),
        (np.array([1j]), TypeError),
        (np.array(["x"]), TypeError),
    ],
)
def test_binary_pattern_rejects_weights(weights, error):
    with pytest.raises(error, match="`weights`"):
        binary_pattern(weights, 0.5)


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ((0, 4), ValueError),
        ((4, -1), ValueError),
        ((), ValueError),
        ((2, 2, 2), ValueError),
        (0, ValueError),
        ((4.0, 4), TypeError),
        ((True, 4), TypeError),
        ("44", TypeError),
        (None, TypeError),
        (4.5, TypeError),
    ],
)
def test_shape_validation(shape, error):
    with pytest.raises(error, match="`shape`"):
        uniform_random_pattern(shape, 0.5, rng=0)
    with pytest.raises(error, match="`shape`"):
        variable_density_pattern(shape, 0.5, rng=0)
    with pytest.raises(error, match="`shape`"):
        line_pattern(np.ones(4), shape)


@pytest.mark.parametrize(
    ("lines", "shape", "error"),
    [
        (np.ones(3), (4, 4), ValueError),
        (np.ones((4, 1)), (4, 4), ValueError),
        (np.array([0.0, 2.0, 0.0, 0.0]), (4, 4), ValueError),
        (np.array([0.0, np.nan, 0.0, 0.0]), (4, 4), ValueError),
        (np.array([1j, 0, 0, 0]), (4, 4), TypeError),
        (1.0, (4, 4), ValueError),
    ],
)
def test_line_pattern_rejects_lines(lines, shape, error):
    with pytest.raises(error, match="`lines`"):
        line_pattern(lines, shape)


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize(
    ("rng", "error"), [(-1, ValueError), ("seed", TypeError), (1.5, TypeError), (True, TypeError)]
)
def test_random_patterns_reject_rng(make, rng, error):
    with pytest.raises(error, match="`rng`"):
        make((8, 8), 0.5, rng=rng)


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("cartesian", [1, "yes", None])
def test_random_patterns_reject_cartesian(make, cartesian):
    with pytest.raises(TypeError, match="`cartesian`"):
        make((8, 8), 0.5, cartesian=cartesian, rng=0)


@pytest.mark.parametrize(
    ("power", "error"),
    [
        (0.0, ValueError),
        (-1.0, ValueError),
        (np.nan, ValueError),
        (np.inf, ValueError),
        ("3", TypeError),
        (None, TypeError),
    ],
)
def test_variable_density_rejects_power(power, error):
    with pytest.raises(error, match="`power`"):
        variable_density_pattern((8, 8), 0.5, power=power, rng=0)


@pytest.mark.parametrize(
    ("images", "error", "name"),
    [
        ([], ValueError, "`images`"),
        ([np.ones((4, 4)), np.ones((4, 5))], ValueError, r"`images\[1\]`"),
        ([np.ones((4, 4)), np.full((4, 4), np.nan)], ValueError, r"`images\[1\]`"),
        ([np.ones((2, 2, 2))], ValueError, r"`images\[0\]`"),
        ([np.ones((4, 4)) * 1j], TypeError, r"`images\[0\]`"),
        (np.ones(4), ValueError, "`images`"),
        ("abc", TypeError, "`images`"),
        (3.0, TypeError, "`images`"),
    ],
)
def test_data_adapted_rejects_images(images, error, name):
    with pytest.raises(error, match=name):
        data_adapted_pattern(images, 0.5)


def test_data_adapted_rejects_cartesian():
    with pytest.raises(TypeError, match="`cartesian`"):
        data_adapted_pattern([np.ones((4, 4))], 0.5, cartesian="yes")
