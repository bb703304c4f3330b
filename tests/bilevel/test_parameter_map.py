"""ParameterMap: round trips, chain rule by finite differences, bounds, validation."""

import numpy as np
import pytest

from odl_bilevel.bilevel import ParameterMap


def _fd_jacobian(fun, phi, step=1e-6):
    cols = []
    for k in range(phi.size):
        e = np.zeros_like(phi)
        e[k] = step
        cols.append((fun(phi + e) - fun(phi - e)) / (2 * step))
    return np.array(cols).T


def test_identity_round_trip_and_vjp(rng):
    T = ParameterMap.identity(("a", "b", "c"), bounds=[(0, 1), (None, 2.0), (-np.inf, np.inf)])
    phi = rng.uniform(0, 1, 3)
    assert np.array_equal(T.forward(phi), phi)
    assert np.array_equal(T.inverse(T.forward(phi)), phi)
    g = rng.standard_normal(3)
    assert np.array_equal(T.vjp(phi, g), g)
    assert T.jacobian_norm(phi) == 1.0
    assert T.bounds == ((0.0, 1.0), (None, 2.0), (None, None))
    assert T.names == T.theta_names == ("a", "b", "c")


def test_log_map_with_fixed_entries(rng):
    T = ParameterMap.log(("alpha", "nu", "xi"), fixed={"nu": 0.05, 2: 1e-3})
    assert T.size == 1 and T.theta_size == 3 and T.names == ("log_alpha",)
    theta = T.forward([np.log(0.3)])
    np.testing.assert_allclose(theta, [0.3, 0.05, 1e-3], rtol=1e-15)
    np.testing.assert_allclose(T.inverse(theta), [np.log(0.3)], rtol=1e-15)
    # vjp = J^T g, J by central differences of the forward map
    for phi in (rng.standard_normal(1), rng.standard_normal(1)):
        J = _fd_jacobian(T.forward, phi)
        g = rng.standard_normal(3)
        np.testing.assert_allclose(T.vjp(phi, g), J.T @ g, rtol=1e-8)
        np.testing.assert_allclose(T.jacobian(phi), J, rtol=1e-8)
        assert T.jacobian_norm(phi) == pytest.approx(np.linalg.norm(J, 2), rel=1e-8)


def test_log_map_all_learned(rng):
    T = ParameterMap.log(("alpha", "nu"))
    phi = rng.standard_normal(2)
    np.testing.assert_allclose(T.inverse(T.forward(phi)), phi, rtol=1e-14)
    theta = rng.uniform(0.1, 3, 2)
    np.testing.assert_allclose(T.forward(T.inverse(theta)), theta, rtol=1e-14)
    J = _fd_jacobian(T.forward, phi)
    g = rng.standard_normal(2)
    np.testing.assert_allclose(T.vjp(phi, g), J.T @ g, rtol=1e-8)
    assert T.jacobian_norm(phi) == pytest.approx(np.linalg.norm(J, 2), rel=1e-8)


def test_generic_map_vjp_and_default_jacobian_norm(rng):
    # theta = (phi0^2, phi0 * phi1, sin(phi1))
    def forward(phi):
        return np.array([phi[0] ** 2, phi[0] * phi[1], np.sin(phi[1])])

    def vjp(phi, g):
        return np.array([2 * phi[0] * g[0] + phi[1] * g[1], phi[0] * g[1] + np.cos(phi[1]) * g[2]])

    T = ParameterMap(forward, vjp, size=2, names=("u", "v"), theta_names=("a", "b", "c"))
    phi = rng.standard_normal(2)
    J = _fd_jacobian(T.forward, phi)
    g = rng.standard_normal(3)
    np.testing.assert_allclose(T.vjp(phi, g), J.T @ g, rtol=1e-7, atol=1e-10)
    assert T.jacobian_norm(phi) == pytest.approx(np.linalg.norm(J, 2), rel=1e-7)
    with pytest.raises(NotImplementedError, match="inverse"):
        T.inverse([1.0, 2.0, 3.0])


def test_integer_names():
    T = ParameterMap.identity(3)
    assert T.names == ("theta[0]", "theta[1]", "theta[2]")


@pytest.mark.parametrize(
    ("phi", "match"),
    [([np.nan, 0.0], "`phi`"), ([0.0, np.inf], "`phi`"), ([0.0], "`phi` must have 2"),
     ([[0.0, 1.0]], "`phi` must be a vector")],
)
def test_bad_phi_names_phi(phi, match):
    T = ParameterMap.log(("alpha", "nu"))
    with pytest.raises(ValueError, match=match):
        T.forward(phi)


def test_overflow_names_phi():
    T = ParameterMap.log(("alpha",))
    with pytest.raises(ValueError, match="`phi`.*non-finite theta"):
        T.forward([1e4])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"size": 0}, ValueError, "`size`"),
        ({"size": 1.5}, TypeError, "`size`"),
        ({"names": ("a", "b")}, ValueError, "`names`"),
        ({"names": "a"}, TypeError, "`names`"),
        ({"bounds": [(0, 1), (0, 1)]}, ValueError, "`bounds`"),
        ({"bounds": [(1, 0)]}, ValueError, r"`bounds\[0\]`"),
        ({"bounds": [(np.inf, None)]}, ValueError, r"`bounds\[0\]`"),
        ({"bounds": [("a", 1)]}, ValueError, r"`bounds\[0\]`"),
        ({"forward": 3}, TypeError, "`forward`"),
        ({"vjp": None}, TypeError, "`vjp`"),
        ({"inverse": 1}, TypeError, "`inverse`"),
    ],
)
def test_constructor_validation_names_argument(kwargs, exc, match):
    args = {"forward": np.exp, "vjp": lambda p, g: g * np.exp(p), "size": 1, "names": ("a",)}
    args.update(kwargs)
    forward, vjp = args.pop("forward"), args.pop("vjp")
    with pytest.raises(exc, match=match):
        ParameterMap(forward, vjp, **args)


def test_log_validation():
    with pytest.raises(ValueError, match="`fixed`"):
        ParameterMap.log(("a", "b"), fixed={"c": 1.0})
    with pytest.raises(ValueError, match="`fixed`"):
        ParameterMap.log(("a",), fixed={"a": 1.0})
    with pytest.raises(ValueError, match="`fixed`"):
        ParameterMap.log(("a", "b"), fixed={5: 1.0})
    with pytest.raises(ValueError, match="`fixed"):
        ParameterMap.log(("a", "b"), fixed={"a": np.nan})
    with pytest.raises(ValueError, match="`theta`"):
        ParameterMap.log(("a",)).inverse([-1.0])


def test_wrong_output_sizes_are_caught():
    T = ParameterMap(lambda p: np.ones(2), lambda p, g: np.ones(3), size=1, names=("a",),
                     theta_names=("x", "y", "z"))
    with pytest.raises(ValueError, match="`forward`"):
        T.forward([0.0])
    with pytest.raises(ValueError, match="`vjp`"):
        T.vjp([0.0], np.ones(3))
    with pytest.raises(ValueError, match="`g_theta`"):
        T.vjp([0.0], np.ones(2))


def test_repeated_bounds_are_checked_once_but_every_pair_is_checked():
    # one pair per pixel: validated once, reused (fast), yet a bad pair after good ones raises
    m = 1000
    T = ParameterMap.identity(tuple(f"s{k}" for k in range(m)), bounds=[(0, 1)] * m)
    assert T.bounds == ((0.0, 1.0),) * m
    for bad, index in [((True, 1), 1), ((0, np.nan), 2), ((1, 1), 1)]:
        pairs = [(0, 1)] * index + [bad] + [(0, 1)]
        with pytest.raises(ValueError, match=rf"`bounds\[{index}\]`"):
            ParameterMap.identity(tuple(f"s{k}" for k in range(len(pairs))), bounds=pairs)
