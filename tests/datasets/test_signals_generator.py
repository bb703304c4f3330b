"""piecewise_constant_signals: shape, range, jump statistics, validation."""

import numpy as np
import pytest

from odl_bilevel.datasets import piecewise_constant_signals


def _segments(signal):
    jumps = np.flatnonzero(np.diff(signal)) + 1
    bounds = np.concatenate([[0], jumps, [signal.size]])
    return jumps, np.diff(bounds)


def test_shape_dtype_and_range(rng):
    x = piecewise_constant_signals(20, 128, rng=rng)
    assert x.shape == (20, 128)
    assert x.dtype == np.float64
    assert x.min() >= 0.0 and x.max() <= 1.0


@pytest.mark.parametrize(("n_jumps", "min_segment", "min_jump"), [((3, 8), 8, 0.1), (5, 3, 0.3)])
def test_jump_count_segment_length_and_height(rng, n_jumps, min_segment, min_jump):
    low, high = (n_jumps, n_jumps) if np.isscalar(n_jumps) else n_jumps
    x = piecewise_constant_signals(
        50, 100, n_jumps=n_jumps, min_segment=min_segment, min_jump=min_jump, rng=rng
    )
    counts = set()
    for signal in x:
        jumps, lengths = _segments(signal)
        counts.add(jumps.size)
        assert low <= jumps.size <= high
        assert lengths.min() >= min_segment
        assert np.abs(np.diff(signal)[jumps - 1]).min() >= min_jump - 1e-12
    if low < high:
        assert len(counts) > 1  # the number of jumps is really random


def test_every_jump_position_is_reachable(rng):
    x = piecewise_constant_signals(400, 10, n_jumps=1, min_segment=2, min_jump=0.2, rng=rng)
    positions = {int(_segments(s)[0][0]) for s in x}
    assert positions == set(range(2, 9))


def test_seed_reproducible_and_generator_advances():
    a = piecewise_constant_signals(3, 64, rng=5)
    b = piecewise_constant_signals(3, 64, rng=5)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(5)
    c = piecewise_constant_signals(3, 64, rng=gen)
    d = piecewise_constant_signals(3, 64, rng=gen)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(c, d)


def test_zero_signals_and_zero_jumps(rng):
    assert piecewise_constant_signals(0, 16, rng=rng).shape == (0, 16)
    x = piecewise_constant_signals(4, 16, n_jumps=0, rng=rng)
    assert np.all(x == x[:, :1])


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"n": -1}, "`n`", ValueError),
        ({"n": 2.0}, "`n`", TypeError),
        ({"length": 20, "min_segment": 4}, "`length`", ValueError),
        ({"n_jumps": (5, 3)}, "`n_jumps`", ValueError),
        ({"n_jumps": "many"}, "`n_jumps`", TypeError),
        ({"min_jump": 0.5}, "`min_jump`", ValueError),
        ({"min_segment": 0}, "`min_segment`", ValueError),
        ({"rng": "seed"}, "`rng`", TypeError),
    ],
)
def test_bad_arguments_are_named(kwargs, name, error):
    args = {"n": 2, "length": 64, **kwargs}
    with pytest.raises(error, match=name):
        piecewise_constant_signals(args.pop("n"), args.pop("length"), **args)
