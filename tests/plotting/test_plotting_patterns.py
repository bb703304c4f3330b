"""Sampling-pattern figures: structure (axes, titles, shifted masks), never pixels."""

import subprocess
import sys

import numpy as np
import pytest

from odl_bilevel.plotting import (
    plot_continuation,
    plot_patterns,
    plot_rate_sweep,
    plot_sampling_reconstructions,
)

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def agg_backend():
    matplotlib.use("Agg")


def _mask(shape, rate, rng):
    s = np.zeros(shape)
    s.flat[rng.choice(s.size, int(round(rate * s.size)), replace=False)] = 1.0
    return s


def test_plot_patterns_shifts_and_titles(rng, tmp_path):
    free = _mask((12, 12), 0.25, rng)
    lines = np.zeros((12, 12))
    lines[[0, 1, 11], :] = 1.0
    fig = plot_patterns({"free": free, "lines": lines})
    assert isinstance(fig, matplotlib.figure.Figure)
    assert [ax.get_title() for ax in fig.axes] == ["free\n25.0%", "lines\n25.0%"]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), np.fft.fftshift(free))
    shown = np.asarray(fig.axes[1].images[0].get_array())
    assert np.all(shown[5:8] == 1.0) and shown.sum() == 36  # DC line in the middle
    unshifted = plot_patterns({"free": free}, shift=False, show_rate=False)
    np.testing.assert_array_equal(unshifted.axes[0].images[0].get_array(), free)
    assert unshifted.axes[0].get_title() == "free"
    fig.savefig(tmp_path / "masks.png")
    assert (tmp_path / "masks.png").stat().st_size > 0


def test_plot_patterns_grid_and_1d(rng):
    fig = plot_patterns({f"p{i}": _mask((6, 6), 0.5, rng) for i in range(5)}, ncols=2)
    assert len(fig.axes) == 5
    assert fig.axes[4].get_subplotspec().get_geometry()[:2] == (3, 2)
    fig = plot_patterns({"1d": _mask((16,), 0.25, rng)})
    assert not fig.axes[0].images and fig.axes[0].containers  # stems


@pytest.mark.parametrize(
    ("arg", "error", "match"),
    [
        ({}, TypeError, "`patterns`"),
        ([np.zeros((4, 4))], TypeError, "`patterns`"),
        ({"a": 2.0 * np.ones((4, 4))}, ValueError, r"`patterns\['a'\]`"),
        ({"a": np.ones((2, 2, 2))}, ValueError, r"`patterns\['a'\]`"),
    ],
)
def test_plot_patterns_errors(arg, error, match):
    with pytest.raises(error, match=match):
        plot_patterns(arg)


def test_plot_sampling_reconstructions_layout(rng):
    clean = rng.uniform(size=(16, 16))
    recons = {"a": clean + 0.1, "b": clean - 0.3}
    masks = {"a": _mask((16, 16), 0.3, rng), "b": _mask((16, 16), 0.3, rng)}
    fig = plot_sampling_reconstructions(clean, recons, patterns=masks)
    axes = fig.axes
    assert len(axes) == 1 + 3 * 2 + 1  # truth, (mask, recon, error) per method, colour bar
    geometry = [ax.get_subplotspec().get_geometry()[:3] for ax in axes[:-1]]
    assert geometry[0] == (3, 3, 3)  # truth in the reconstruction row
    assert [g[2] for g in geometry[1:4]] == [1, 4, 7]  # method "a": mask, recon, error
    assert axes[2].get_title().startswith("a\n") and "dB" in axes[2].get_title()
    assert axes[1].get_title() == "mask 30.1%"
    np.testing.assert_array_equal(axes[1].images[0].get_array(), np.fft.fftshift(masks["a"]))
    np.testing.assert_allclose(axes[3].images[0].get_array(), 0.1)
    # one error scale for all methods
    assert axes[3].images[0].get_clim() == axes[6].images[0].get_clim()
    assert axes[6].images[0].get_clim() == pytest.approx((0.0, 0.3))
    no_masks = plot_sampling_reconstructions(clean, recons, error_max=1.0)
    assert len(no_masks.axes) == 1 + 2 * 2 + 1
    assert no_masks.axes[2].images[0].get_clim() == (0.0, 1.0)


def test_plot_sampling_reconstructions_errors():
    x = np.zeros((8, 8))
    with pytest.raises(ValueError, match="`clean`"):
        plot_sampling_reconstructions(np.zeros(8), {"a": np.zeros(8)})
    with pytest.raises(ValueError, match=r"`recons\['a'\]`"):
        plot_sampling_reconstructions(x, {"a": np.zeros((8, 9))})
    with pytest.raises(ValueError, match=r"`patterns\['a'\]`"):
        plot_sampling_reconstructions(x, {"a": x}, patterns={"a": np.zeros((4, 4))})
    with pytest.raises(TypeError, match="`recons`"):
        plot_sampling_reconstructions(x, [x])


def test_plot_rate_sweep(rng):
    points = [(0.3, 30.0), (0.1, 24.0), (0.2, 27.0)]
    masks = [_mask((8, 8), r, rng) for r, _ in points]
    fig = plot_rate_sweep(
        points, labels=["a", "b", "c"], patterns=masks, reference={"random": (0.3, 26.0)}
    )
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.1, 0.2, 0.3])  # sorted by rate
    assert len(ax.lines) == 2 and ax.get_ylabel() == "test PSNR (dB)"
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c"]
    assert len(fig.axes) == 4
    assert [a.get_title() for a in fig.axes[1:]] == ["10.0%", "20.0%", "30.0%"]
    with pytest.raises(ValueError, match="`labels`"):
        plot_rate_sweep(points, labels=["a"])
    with pytest.raises(ValueError, match="`patterns`"):
        plot_rate_sweep(points, patterns=masks[:1])
    with pytest.raises(ValueError, match="`points`"):
        plot_rate_sweep([])
    with pytest.raises(TypeError, match="`reference`"):
        plot_rate_sweep(points, reference=[(0.1, 1.0)])


def test_plot_continuation():
    runs = {"free": [(1e-3, 0.7), (2e-3, 0.4), (4e-3, 0.2)], "lines": [(1e-2, 0.5)]}
    fig = plot_continuation(runs, targets={"free": 0.3})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 3  # two runs + one target
    hist = {"free": [(10, 1.0), (30, 0.5)]}
    fig = plot_continuation(runs, histories=hist)
    assert len(fig.axes) == 2 and fig.axes[1].get_xlabel() == "lower-level solves"
    with pytest.raises(ValueError, match="non-positive beta1"):
        plot_continuation({"x": [(0.0, 0.5)]})
    with pytest.raises(TypeError, match="`runs`"):
        plot_continuation([])
    with pytest.raises(ValueError, match=r"`histories\['x'\]`"):
        plot_continuation(runs, histories={"x": [(1.0, np.nan)]})


def test_no_pyplot_imported():
    code = (
        "import sys, numpy as np;"
        "from odl_bilevel.plotting import plot_patterns, plot_sampling_reconstructions;"
        "x = np.ones((12, 12));"
        "plot_patterns({'a': x}); plot_sampling_reconstructions(x, {'a': x}, patterns={'a': x});"
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
