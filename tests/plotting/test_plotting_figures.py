"""Plotting helpers: figure structure (axes, titles, lines), never pixels."""

import subprocess
import sys

import numpy as np
import odl
import pytest

from odl_bilevel.metrics import psnr, ssim
from odl_bilevel.plotting import plot_history, plot_images, plot_reconstructions

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def agg_backend():
    matplotlib.use("Agg")


def _grid(ax):
    nrows, ncols, start, _ = ax.get_subplotspec().get_geometry()
    return nrows, ncols, start


def test_plot_images_mixed_signals_and_images(rng, tmp_path):
    images = [rng.uniform(size=(8, 9)), rng.uniform(size=20), rng.uniform(size=(5, 5))]
    fig = plot_images(images, ["a", "b", "c"], vmin=0.0, vmax=1.0)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert [len(ax.images) for ax in axes] == [1, 0, 1]
    assert [len(ax.lines) for ax in axes] == [0, 1, 0]
    assert axes[0].images[0].get_clim() == (0.0, 1.0)
    np.testing.assert_array_equal(axes[1].lines[0].get_ydata(), images[1])
    fig.savefig(tmp_path / "images.png")
    assert (tmp_path / "images.png").stat().st_size > 0


def test_plot_images_grid_and_dict(rng):
    fig = plot_images({f"im{i}": rng.uniform(size=(4, 4)) for i in range(5)}, ncols=2)
    assert len(fig.axes) == 5  # no empty axes for the unused cell
    assert [ax.get_title() for ax in fig.axes] == [f"im{i}" for i in range(5)]
    assert _grid(fig.axes[4]) == (3, 2, 4)
    assert _grid(plot_images([np.zeros(3)] * 6).axes[5])[:2] == (2, 4)


def test_plot_images_accepts_odl_elements():
    space = odl.uniform_discr([0, 0], [4, 6], (4, 6))
    fig = plot_images([space.one()])
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), np.ones((4, 6)))


@pytest.mark.parametrize(
    ("args", "kwargs", "name", "error"),
    [
        (([np.zeros((2, 2))], ["a", "b"]), {}, "`titles`", ValueError),
        (([np.zeros((2, 2, 2))],), {}, r"`images\[0\]`", ValueError),
        (([],), {}, "`images`", ValueError),
        (([np.zeros(3)],), {"ncols": 0}, "`ncols`", ValueError),
        (({"a": np.zeros(3)}, ["a"]), {}, "`titles`", ValueError),
    ],
)
def test_plot_images_errors(args, kwargs, name, error):
    with pytest.raises(error, match=name):
        plot_images(*args, **kwargs)


def test_reconstructions_single_image_titles_carry_metrics(rng):
    clean = rng.uniform(size=(16, 16))
    noisy = clean + 0.1 * rng.standard_normal(clean.shape)
    recons = {"TV": 0.5 * (clean + noisy), "TGV": clean}
    fig = plot_reconstructions(clean, noisy, recons)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 4
    assert titles[0] == "clean"
    assert titles[1].startswith("noisy\n") and titles[2].startswith("TV\n")
    assert f"PSNR {psnr(noisy, clean):.2f} dB" in titles[1]
    assert f"SSIM {ssim(recons['TV'], clean):.3f}" in titles[2]
    assert "PSNR inf dB" in titles[3]
    # all images of a row share the clean range
    assert {ax.images[0].get_clim() for ax in fig.axes} == {(clean.min(), clean.max())}


def test_reconstructions_rows_without_metrics_or_noisy(rng):
    clean = [rng.uniform(size=(12, 12)) for _ in range(3)]
    recon = [c + 0.01 for c in clean]
    fig = plot_reconstructions(clean, None, {"learned": recon}, metrics=False)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == ["clean", "learned"] * 3
    assert _grid(fig.axes[5]) == (3, 2, 5)


def test_reconstructions_of_signals_overlay_the_clean_signal(rng):
    clean = np.repeat(rng.uniform(size=4), 8)  # 32 samples
    short = np.linspace(0.0, 1.0, 8)
    fig = plot_reconstructions(clean, clean + 0.05, {"TV": clean})
    assert [len(ax.lines) for ax in fig.axes] == [1, 2, 2]
    assert "SSIM" in fig.axes[1].get_title()
    fig = plot_reconstructions(short, short + 0.05, {})
    assert "PSNR" in fig.axes[1].get_title() and "SSIM" not in fig.axes[1].get_title()


def test_reconstructions_errors(rng):
    clean = rng.uniform(size=(8, 8))
    with pytest.raises(TypeError, match="`recons`"):
        plot_reconstructions(clean, clean, [clean])
    with pytest.raises(ValueError, match="`TV`"):
        plot_reconstructions(clean, clean, {"TV": clean[:4]})
    with pytest.raises(ValueError, match="`noisy`"):
        plot_reconstructions([clean, clean], [clean], {})


def test_history_lines_labels_and_scales(tmp_path):
    histories = {"dynamic": [(10, 1.0), (25, 0.4), (60, 0.3)], "fixed 200": np.array([[200, 0.9]])}
    fig = plot_history(histories, xlabel="Hessian-vector products", title="denoising")
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [10, 25, 60])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.4, 0.3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dynamic", "fixed 200"]
    assert ax.get_xlabel() == "Hessian-vector products" and ax.get_title() == "denoising"
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "log")
    ax2 = plot_history(histories, logy=False, logx=True).axes[0]
    assert (ax2.get_xscale(), ax2.get_yscale()) == ("log", "linear")
    fig.savefig(tmp_path / "history.png")


@pytest.mark.parametrize(
    ("histories", "kwargs", "match", "error"),
    [
        ({}, {}, "`histories`", TypeError),
        ({"a": [1.0, 2.0]}, {}, r"`histories\['a'\]`", ValueError),
        ({"a": [(1, 0.0)]}, {}, "logy", ValueError),
        ({"a": [(0, 1.0)]}, {"logx": True}, "logx", ValueError),
        ({"a": [(1, np.nan)]}, {}, "NaN", ValueError),
    ],
)
def test_history_errors(histories, kwargs, match, error):
    with pytest.raises(error, match=match):
        plot_history(histories, **kwargs)


def test_importing_plotting_does_not_import_matplotlib():
    code = (
        "import sys; import odl; before = set(sys.modules);"
        "import odl_bilevel.plotting;"
        "new = [m for m in set(sys.modules) - before if m.split('.')[0] == 'matplotlib'];"
        "assert not new, new"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_library_never_shows_figures():
    import pathlib

    import odl_bilevel.plotting as plotting

    for path in pathlib.Path(plotting.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "matplotlib.pyplot" not in text and "import pyplot" not in text, path
        assert ".show(" not in text, path


def test_signal_rows_share_one_y_range(rng):
    clean = np.repeat(rng.uniform(size=4), 8)
    noisy = clean + 0.2 * rng.standard_normal(clean.shape)
    fig = plot_reconstructions(clean, noisy, {"TV": clean})
    limits = {ax.get_ylim() for ax in fig.axes}
    assert len(limits) == 1
    ((low, high),) = limits
    assert low < noisy.min() and high > noisy.max()
