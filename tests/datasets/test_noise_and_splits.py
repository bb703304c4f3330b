"""add_gaussian_noise, denoising_pairs and train_test_split."""

import numpy as np
import odl
import pytest

from odl_bilevel.datasets import add_gaussian_noise, denoising_pairs, train_test_split


def test_noise_statistics(rng):
    x = np.full((200, 200), 0.3)
    y = add_gaussian_noise(x, 0.1, rng=rng)
    assert y.shape == x.shape and y.dtype == np.float64
    noise = y - x
    assert abs(noise.mean()) < 3 * 0.1 / 200
    assert abs(noise.std() - 0.1) < 0.002
    assert np.all(x == 0.3)  # input untouched


def test_noise_zero_sigma_and_seeding():
    x = np.arange(5.0)
    np.testing.assert_array_equal(add_gaussian_noise(x, 0.0, rng=1), x)
    np.testing.assert_array_equal(
        add_gaussian_noise(x, 1.0, rng=3), add_gaussian_noise(x, 1.0, rng=3)
    )
    assert not np.array_equal(add_gaussian_noise(x, 1.0, rng=3), add_gaussian_noise(x, 1.0, rng=4))


def test_noise_keeps_odl_space(rng):
    space = odl.uniform_discr([0, 0], [4, 5], (4, 5))
    x = space.one()
    y = add_gaussian_noise(x, 0.5, rng=rng)
    assert y.space == space
    assert float((y - x).norm()) > 0


@pytest.mark.parametrize(("sigma", "error"), [(-0.1, ValueError), ("big", TypeError)])
def test_noise_bad_sigma(sigma, error):
    with pytest.raises(error, match="`sigma`"):
        add_gaussian_noise(np.zeros(3), sigma, rng=0)


def test_noise_rejects_nan():
    with pytest.raises(ValueError, match="`x`"):
        add_gaussian_noise(np.array([0.0, np.nan]), 0.1, rng=0)


def test_denoising_pairs(rng):
    images = [np.zeros((4, 4)), np.ones(6)]
    clean, noisy = denoising_pairs(images, 0.2, rng=rng)
    assert [c.shape for c in clean] == [(4, 4), (6,)]
    assert [n.shape for n in noisy] == [(4, 4), (6,)]
    clean[0][0, 0] = 5.0
    assert images[0][0, 0] == 0.0  # copies
    assert not np.allclose(noisy[1], 1.0)
    c2, n2 = denoising_pairs(np.zeros((3, 8)), 0.1, rng=7)  # rows of a 2-D array
    assert len(c2) == 3 and n2[0].shape == (8,)
    with pytest.raises(ValueError, match=r"`images\[1\]`"):
        denoising_pairs([np.zeros(2), np.array([np.inf])], 0.1, rng=0)


def test_split_without_rng_keeps_order():
    assert train_test_split(list("abcde"), 3) == (["a", "b", "c"], ["d", "e"])
    train, test = train_test_split(np.arange(12).reshape(6, 2), 4)
    np.testing.assert_array_equal(train, np.arange(8).reshape(4, 2))
    assert test.shape == (2, 2)


def test_split_with_rng_is_a_seeded_partition():
    items = list(range(20))
    train, test = train_test_split(items, 15, rng=0)
    assert sorted(train + test) == items and len(train) == 15
    assert train != items[:15]
    assert train_test_split(items, 15, rng=0) == (train, test)


@pytest.mark.parametrize(
    ("n_train", "error"), [(6, ValueError), (-1, ValueError), (2.0, TypeError)]
)
def test_split_bad_n_train(n_train, error):
    with pytest.raises(error, match="`n_train`"):
        train_test_split(list(range(5)), n_train)
