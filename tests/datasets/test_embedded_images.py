"""Embedded natural images: contents, resizing, provenance, no scikit-image at run time."""

import importlib.resources
import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from odl_bilevel.datasets import available_images, natural_images

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = importlib.resources.files("odl_bilevel.datasets") / "data"


def test_available_images_lists_the_stored_crops():
    names = available_images()
    assert isinstance(names, tuple) and len(names) >= 8
    assert len(set(names)) == len(names)
    assert {"camera", "astronaut", "coins"} <= set(names)


def test_all_images_are_float64_in_unit_range():
    images = natural_images()
    assert len(images) == len(available_images())
    for image in images:
        assert image.shape == (128, 128) and image.dtype == np.float64
        assert image.min() == 0.0 and image.max() == 1.0  # stretched to the full range
        assert image.std() > 0.05  # a picture, not a flat field


def test_order_follows_names_and_results_are_copies():
    coins, camera = natural_images(["coins", "camera"])
    np.testing.assert_array_equal(camera, natural_images("camera")[0])
    assert not np.array_equal(coins, camera)
    camera[:] = -1.0
    assert natural_images("camera")[0].min() == 0.0


def test_mean_downsampling_is_block_average():
    (full,) = natural_images("brick")
    (small,) = natural_images("brick", size=32)
    np.testing.assert_allclose(small, full.reshape(32, 4, 32, 4).mean(axis=(1, 3)))
    (rect,) = natural_images("brick", size=(64, 32))
    assert rect.shape == (64, 32)


def test_crop_is_centred():
    (full,) = natural_images("coffee")
    (crop,) = natural_images("coffee", size=96, method="crop")
    np.testing.assert_array_equal(crop, full[16:112, 16:112])


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"names": ["camera", "lena"]}, "`names`", ValueError),
        ({"names": 3}, "`names`", TypeError),
        ({"size": 100}, "`size`", ValueError),
        ({"size": 256}, "`size`", ValueError),
        ({"size": (1, 2, 3)}, "`size`", TypeError),
        ({"method": "bicubic"}, "`method`", ValueError),
    ],
)
def test_bad_arguments_are_named(kwargs, name, error):
    with pytest.raises(error, match=name):
        natural_images(**kwargs)


def test_readme_records_source_and_licence_of_every_image():
    text = (DATA / "README.md").read_text(encoding="utf-8")
    with (DATA / "natural_images.npz").open("rb") as fh, np.load(fh) as npz:
        names = [str(n) for n in npz["names"]]
        assert npz["images"].dtype == np.uint8
        assert npz["boxes"].shape == (len(names), 3)
    for name in names:
        row = next((line for line in text.splitlines() if line.startswith(f"| {name} |")), None)
        assert row is not None, f"README.md has no row for {name}"
        assert any(word in row for word in ("CC0", "public domain", "copyright")), row
    assert "BSD-3-Clause" in text


def test_data_file_is_small():
    assert (ROOT / "odl_bilevel/datasets/data/natural_images.npz").stat().st_size < 300_000


def test_library_does_not_import_scikit_image_or_matplotlib():
    code = (
        "import sys; import odl; before = set(sys.modules);"
        "import odl_bilevel.datasets as d, odl_bilevel.metrics, odl_bilevel.plotting;"
        "d.natural_images(size=32);"
        "new = [m for m in set(sys.modules) - before"
        " if m.split('.')[0] in ('skimage', 'matplotlib', 'imageio')];"
        "assert not new, new"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_generator_script_reproduces_the_shipped_file():
    pytest.importorskip("skimage")
    spec = importlib.util.spec_from_file_location(
        "make_embedded_images", ROOT / "tools" / "make_embedded_images.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    names, images, boxes = tool.make_images()
    with (DATA / "natural_images.npz").open("rb") as fh, np.load(fh) as npz:
        np.testing.assert_array_equal(npz["names"], names)
        np.testing.assert_array_equal(npz["boxes"], boxes)
        # identical up to one grey level (rgb2gray rounding may differ across versions)
        diff = np.abs(npz["images"].astype(int) - images.astype(int))
        assert diff.max() <= 1
