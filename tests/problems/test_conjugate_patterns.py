"""Conjugate pairs of k-space and the ``hermitian=True`` baseline patterns."""

import numpy as np
import pytest
from scipy.optimize import brentq

from odl_bilevel.problems import (
    conjugate_index,
    conjugate_redundancy,
    data_adapted_pattern,
    pattern_rate,
    peak_interference,
    reconstruct_sampled,
    simulate_kspace,
    uniform_random_pattern,
    variable_density_pattern,
)

RANDOM = [uniform_random_pattern, variable_density_pattern]
SHAPES = [(16, 16), (12, 20), (15, 9), (9, 8), (32,), (7,)]


def _k(rate, m):
    return max(1, round(rate * m))


def _brute_conjugate(shape):
    out = np.empty(int(np.prod(shape)), dtype=int)
    for flat, j in enumerate(np.ndindex(*shape)):
        out[flat] = np.ravel_multi_index(
            tuple((-a) % n for a, n in zip(j, shape, strict=True)), shape
        )
    return out


def _pairs(shape):
    conj = conjugate_index(shape)
    return conj, int(np.count_nonzero(np.arange(conj.size) <= conj))


def _brute_redundancy(s):
    conj = _brute_conjugate(s.shape)
    flat = s.ravel() != 0
    members = [j for j in range(flat.size) if flat[j] and conj[j] != j]
    return 0.0 if not members else sum(flat[conj[j]] for j in members) / len(members)


# ------------------------------------------------------------------------------------------
# conjugate_index, conjugate_redundancy
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4,), (5,), (2, 3), (4, 6), (5, 7), (1, 8)])
def test_conjugate_index_is_the_involution_of_real_spectra(shape):
    conj = conjugate_index(shape)
    np.testing.assert_array_equal(conj, _brute_conjugate(shape))
    np.testing.assert_array_equal(conj[conj], np.arange(conj.size))
    # what it is for: the DFT of a real image is Hermitian
    x = np.random.default_rng(0).standard_normal(shape)
    fx = np.fft.fftn(x, norm="ortho").ravel()
    np.testing.assert_allclose(fx[conj], np.conj(fx), atol=1e-12)
    # self-conjugate frequencies: 0 and n/2 along each axis
    fixed = np.count_nonzero(conj == np.arange(conj.size))
    assert fixed == np.prod([2 if n % 2 == 0 else 1 for n in shape])
    assert conjugate_index(shape[0]).tolist() == conjugate_index((shape[0],)).tolist()


def test_conjugate_redundancy_counts_repeated_coefficients():
    rng = np.random.default_rng(1)
    for shape in [(8, 8), (7, 9), (10,)]:
        for p in (0.1, 0.5, 0.9):
            s = (rng.random(shape) < p).astype(float)
            assert conjugate_redundancy(s) == pytest.approx(_brute_redundancy(s))
    sym = np.zeros((8, 8))
    sym[1, 2] = sym[7, 6] = 1.0
    assert conjugate_redundancy(sym) == 1.0
    sym[7, 6] = 0.0
    assert conjugate_redundancy(sym) == 0.0
    assert conjugate_redundancy(np.ones((6, 6))) == 1.0
    only_fixed = np.zeros((4, 4))
    only_fixed[0, 0] = only_fixed[2, 2] = 1.0
    assert conjugate_redundancy(only_fixed) == 0.0
    # weights count where nonzero
    assert conjugate_redundancy([0.0, 0.3, 0.0, 0.7]) == 1.0


@pytest.mark.parametrize(
    ("pattern", "error", "match"),
    [
        (np.ones((2, 2, 2)), ValueError, "1-D or 2-D"),
        ([0.0, np.nan], ValueError, "NaN"),
        ([0.0, 2.0], ValueError, r"\[0, 1\]"),
        (np.array([1j, 0]), TypeError, "real"),
    ],
)
def test_conjugate_redundancy_rejects(pattern, error, match):
    with pytest.raises(error, match=match):
        conjugate_redundancy(pattern)


# ------------------------------------------------------------------------------------------
# hermitian random patterns
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rate", [1e-4, 0.1, 0.25, 0.45, 0.6, 0.9, 1.0])
def test_hermitian_random_patterns_sample_each_pair_once(make, shape, rate):
    s = make(shape, rate, hermitian=True, rng=3)
    m = int(np.prod(shape))
    k = _k(rate, m)
    conj, n_pairs = _pairs(shape)
    assert s.shape == shape and set(np.unique(s)) <= {0.0, 1.0}
    assert int(s.sum()) == k and pattern_rate(s) == k / m and s.flat[0] == 1.0
    flat = s.ravel() > 0
    # pairs (and self-conjugate frequencies) sampled: all k while k fits, every one beyond
    hit = flat | flat[conj]
    representatives = np.arange(m) <= conj
    assert np.count_nonzero(hit & representatives) == min(k, n_pairs)
    repeated = np.count_nonzero(flat & flat[conj] & (conj != np.arange(m))) // 2
    assert repeated == max(0, k - n_pairs)


@pytest.mark.parametrize("make", RANDOM)
@pytest.mark.parametrize("shape", [(16, 16), (15, 9), (8,)])
@pytest.mark.parametrize("rate", [0.25, 0.5, 0.8])
def test_hermitian_random_patterns_cartesian_lines(make, shape, rate):
    s = make(shape, rate, cartesian=True, hermitian=True, rng=5)
    lines = s[:, 0] if s.ndim == 2 else s
    assert s.ndim == 1 or np.all(s == s[:, :1])
    k = _k(rate, shape[0])
    assert int(lines.sum()) == k and lines[0] == 1.0
    conj, n_pairs = _pairs((shape[0],))
    repeated = np.count_nonzero((lines > 0) & (lines[conj] > 0) & (conj != np.arange(shape[0])))
    assert repeated // 2 == max(0, k - n_pairs)


@pytest.mark.parametrize("make", RANDOM)
def test_hermitian_random_patterns_seeded_and_random_member(make):
    a = make((16, 16), 0.2, hermitian=True, rng=11)
    assert np.array_equal(a, make((16, 16), 0.2, hermitian=True, rng=11))
    assert not np.array_equal(a, make((16, 16), 0.2, hermitian=True, rng=12))
    # either member of a pair, not a fixed half-plane
    n = 100
    hits = sum(make((8, 8), 0.25, hermitian=True, rng=seed) for seed in range(n)) / n
    upper = hits[1:4, :].sum() / (hits[1:4, :].sum() + hits[5:8, :].sum())
    assert 0.4 < upper < 0.6
    with pytest.raises(TypeError, match="`hermitian`"):
        make((8, 8), 0.25, hermitian=1)


def _lustig_density(radius, power, total):
    base = (1 - radius) ** power
    offset = brentq(lambda c: np.clip(base + c, 0, 1).sum() - total, -1.0, 1.0, xtol=1e-14)
    return np.clip(base + offset, 0, 1)


def test_hermitian_variable_density_draws_pairs_from_the_density():
    shape, rate, power, n = (16, 16), 0.25, 3.0, 300
    hits = (
        sum(
            variable_density_pattern(shape, rate, power=power, hermitian=True, rng=seed)
            for seed in range(n)
        ).ravel()
        / n
    )
    conj, n_pairs = _pairs(shape)
    reps = np.flatnonzero(np.arange(conj.size) <= conj)
    grids = np.meshgrid(*[2.0 * np.fft.fftfreq(m) for m in shape], indexing="ij")
    radius = np.sqrt(sum(g**2 for g in grids)).ravel()
    radius /= radius.max()
    p = _lustig_density(radius[reps[1:]], power, _k(rate, conj.size) - 1)
    pair_hits = (hits[reps] + np.where(conj[reps] != reps, hits[conj[reps]], 0.0))[1:]
    z = (pair_hits - p) / np.sqrt(np.maximum(p * (1 - p), 1e-2) / n)
    assert hits[0] == 1.0 and np.abs(z).max() < 5.0


def test_hermitian_variable_density_trials_keep_the_least_interfering_draw():
    shape, rate = (16, 16), 0.25
    best = variable_density_pattern(shape, rate, hermitian=True, trials=6, rng=4)
    gen = np.random.default_rng(4)
    draws = [variable_density_pattern(shape, rate, hermitian=True, rng=gen) for _ in range(6)]
    assert any(np.array_equal(best, d) for d in draws)
    # the criterion uses each pixel's inclusion probability: half its pair's
    n = 400
    density = (
        sum(variable_density_pattern(shape, rate, hermitian=True, rng=s) for s in range(n)) / n
    )
    density = np.clip(density, 1.0 / n, 1.0)
    levels = [peak_interference(d, density) for d in draws]
    assert peak_interference(best, density) <= np.median(levels) + 0.05


# ------------------------------------------------------------------------------------------
# hermitian data-adapted pattern
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 16), (12, 9), (24,)])
@pytest.mark.parametrize("rate", [1e-4, 0.1, 0.3, 0.5, 0.7, 1.0])
def test_hermitian_data_adapted_picks_the_strongest_pairs(shape, rate):
    rng = np.random.default_rng(2)
    images = [rng.random(shape) for _ in range(3)]
    s = data_adapted_pattern(images, rate, hermitian=True)
    plain = data_adapted_pattern(images, rate)
    m = int(np.prod(shape))
    k = _k(rate, m)
    conj, n_pairs = _pairs(shape)
    assert int(s.sum()) == k == int(plain.sum())
    w = np.mean([np.abs(np.fft.fftn(x, norm="ortho")) for x in images], axis=0).ravel()
    reps = np.flatnonzero(np.arange(m) <= conj)
    paired = conj[reps] != reps
    score = w[reps] * np.where(paired, 2.0, 1.0)  # w_j + w_{-j} for real images
    flat = s.ravel() > 0
    taken = flat[reps] | flat[conj[reps]]
    assert np.count_nonzero(taken) == min(k, n_pairs)
    if k < n_pairs:  # the strongest pairs, each at its representative
        assert score[taken].min() >= score[~taken].max() - 1e-12
        assert not np.any(flat & (np.arange(m) > conj))
        assert conjugate_redundancy(s) == 0.0
    # the plain pattern samples both members of (almost) every pair: real images
    if 0.25 < rate < 1.0:
        assert conjugate_redundancy(plain) > 0.9


def test_hermitian_data_adapted_cartesian_lines():
    rng = np.random.default_rng(0)
    images = [rng.random((16, 6)) for _ in range(2)]
    s = data_adapted_pattern(images, 0.25, cartesian=True, hermitian=True)
    lines = s[:, 0]
    assert np.all(s == s[:, :1]) and int(lines.sum()) == 4 and lines[0] == 1.0
    assert np.all(lines[9:] == 0.0)  # representatives: lines 0..8 of 16
    with pytest.raises(TypeError, match="`hermitian`"):
        data_adapted_pattern(images, 0.25, hermitian="yes")


def test_hermitian_patterns_reconstruct_real_images_better():
    """The reason for the option: the same budget buys twice the coefficients."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:16, :16]
    images = [
        np.clip(((xx - 8 - a) ** 2 + (yy - 7 + a) ** 2 < 30 + 5 * a) * 0.8 + 0.1, 0, 1)
        for a in (0, 1)
    ]
    kspace = simulate_kspace(images, sigma=1e-3, rng=rng)
    errors = {}
    for hermitian in (False, True):
        s = data_adapted_pattern(images, 0.25, hermitian=hermitian)
        rec = reconstruct_sampled(kspace, s, alpha=1e-3, tol=1e-6, max_iter=5000)
        errors[hermitian] = np.mean(
            [np.sum((r - x) ** 2) for r, x in zip(rec, images, strict=True)]
        )
    assert errors[True] < 0.5 * errors[False]
