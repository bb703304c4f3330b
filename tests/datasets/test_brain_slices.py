"""Embedded brain MRI slices: contents, resizing, splits, provenance, no nibabel at run time."""

import importlib.resources
import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from odl_bilevel.datasets import (
    TEMPLATE_NOTICE,
    available_brain_slices,
    brain_slices,
    brain_split_indices,
    brain_train_test,
    load_template_slices,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = importlib.resources.files("odl_bilevel.datasets") / "data"


def _tool():
    spec = importlib.util.spec_from_file_location(
        "make_brain_slices", ROOT / "tools" / "make_brain_slices.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_available_slices_are_increasing_distinct_planes():
    idx = available_brain_slices()
    assert 16 <= len(idx) <= 32
    assert list(idx) == sorted(set(idx))
    assert all(0 <= k < 189 for k in idx)


def test_all_slices_are_float64_brains_in_unit_range():
    images = brain_slices()
    assert len(images) == len(available_brain_slices())
    for image in images:
        assert image.shape == (256, 256) and image.dtype == np.float64
        assert image.min() == 0.0 and image.max() <= 1.0
        assert (image > 0.05).mean() > 0.03  # a brain section, not an empty plane
        assert image[0].max() == 0.0 and image[:, 0].max() == 0.0  # zero-padded border
    assert max(im.max() for im in images) > 0.9  # fixed scale 1/255 reaches the top


def test_slices_differ_and_results_are_fresh_copies():
    a, b = brain_slices(indices=[90, 95])
    assert not np.array_equal(a, b)
    a[:] = -1.0
    np.testing.assert_array_equal(brain_slices(indices=[95, 90])[1], brain_slices(indices=[90])[0])
    assert brain_slices(indices=[90])[0].min() == 0.0


def test_n_spreads_evenly_and_is_deterministic():
    idx = available_brain_slices()
    first = brain_slices(3, size=32)
    for x, y in zip(first, brain_slices(3, size=32), strict=True):
        np.testing.assert_array_equal(x, y)
    ends = brain_slices(indices=[idx[0], idx[-1]], size=32)
    np.testing.assert_array_equal(first[0], ends[0])
    np.testing.assert_array_equal(first[-1], ends[1])


@pytest.mark.parametrize("size", [16, 32, 64, 96, 128, 192, 256, 1024])
def test_resizing_keeps_range_and_mean_intensity(size):
    full = brain_slices(indices=[70, 110])
    small = brain_slices(indices=[70, 110], size=size)
    for f, s in zip(full, small, strict=True):
        assert s.shape == (size, size)
        assert s.min() >= 0.0 and s.max() <= 1.0
        assert abs(s.mean() - f.mean()) < 1e-3 * f.mean()


def test_divisor_sizes_are_block_averages():
    (full,) = brain_slices(indices=[90])
    (small,) = brain_slices(indices=[90], size=64)
    np.testing.assert_allclose(small, full.reshape(64, 4, 64, 4).mean(axis=(1, 3)), atol=1e-14)


def test_area_averaging_agrees_with_block_averaging_at_divisors():
    from odl_bilevel.datasets._brain import _area_matrix

    (full,) = brain_slices(indices=[60])
    mat = _area_matrix(256, 64)
    np.testing.assert_allclose(mat @ full @ mat.T, brain_slices(indices=[60], size=64)[0])


def test_upsampling_to_1024_coarsens_back():
    (full,) = brain_slices(indices=[100])
    (big,) = brain_slices(indices=[100], size=1024)
    back = big.reshape(256, 4, 256, 4).mean(axis=(1, 3))
    assert np.abs(back - full).mean() < 0.01


def test_split_is_disjoint_interleaved_and_deterministic():
    train, test = brain_split_indices(16, 8)
    assert len(train) == 16 and len(test) == 8 and not set(train) & set(test)
    assert (train, test) == brain_split_indices(16, 8)
    # interleaved: between two test slices there is a training slice
    merged = sorted((k, k in test) for k in train + test)
    labels = [is_test for _, is_test in merged]
    assert not any(a and b for a, b in zip(labels, labels[1:], strict=False))
    assert min(train) < min(test) and max(test) < max(train)


def test_random_split_depends_on_seed_only():
    a = brain_split_indices(6, 3, rng=1)
    assert a == brain_split_indices(6, 3, rng=1)
    assert not set(a[0]) & set(a[1])
    assert set(a[0]) | set(a[1]) <= set(available_brain_slices())
    assert any(brain_split_indices(6, 3, rng=s) != a for s in range(2, 6))


def test_train_test_images_come_from_the_split():
    train, test = brain_train_test(4, 2, size=32)
    train_idx, test_idx = brain_split_indices(4, 2)
    assert len(train) == 4 and len(test) == 2
    for image, k in zip(train + test, train_idx + test_idx, strict=True):
        np.testing.assert_array_equal(image, brain_slices(indices=[k], size=32)[0])
    for t in test:
        assert all(not np.array_equal(t, x) for x in train)
    assert brain_train_test(3, 0, size=16)[1] == []


@pytest.mark.parametrize(
    ("func", "kwargs", "name", "error"),
    [
        (brain_slices, {"size": 8}, "`size`", ValueError),
        (brain_slices, {"size": 2048}, "`size`", ValueError),
        (brain_slices, {"size": 64.0}, "`size`", TypeError),
        (brain_slices, {"size": True}, "`size`", TypeError),
        (brain_slices, {"n": 0}, "`n`", ValueError),
        (brain_slices, {"n": 100}, "`n`", ValueError),
        (brain_slices, {"n": 2.5}, "`n`", TypeError),
        (brain_slices, {"indices": [91]}, "`indices`", ValueError),
        (brain_slices, {"indices": 3.5}, "`indices`", TypeError),
        (brain_slices, {"n": 2, "indices": [90]}, "`n`", ValueError),
        (brain_split_indices, {"n_train": -1, "n_test": 2}, "`n_train`", ValueError),
        (brain_split_indices, {"n_train": 2, "n_test": "3"}, "`n_test`", TypeError),
        (brain_split_indices, {"n_train": 20, "n_test": 10}, "`n_train \\+ n_test`", ValueError),
        (brain_split_indices, {"n_train": 0, "n_test": 0}, "`n_train \\+ n_test`", ValueError),
        (brain_split_indices, {"n_train": 2, "n_test": 1, "rng": "x"}, "`rng`", TypeError),
        (brain_train_test, {"n_train": 2, "n_test": 1, "size": 7}, "`size`", ValueError),
        (load_template_slices, {"axis": 3}, "`axis`", ValueError),
        (load_template_slices, {"size": 10}, "`size`", ValueError),
        (load_template_slices, {"min_coverage": 2.0}, "`min_coverage`", ValueError),
        (load_template_slices, {"scale": 0.0}, "`scale`", ValueError),
    ],
)
def test_bad_arguments_are_named(func, kwargs, name, error):
    with pytest.raises(error, match=name):
        func(**kwargs)


def test_data_file_is_present_small_and_carries_the_notice():
    path = ROOT / "odl_bilevel/datasets/data/brain_slices.npz"
    assert path.stat().st_size <= 1_000_000
    with (DATA / "brain_slices.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        assert npz["images"].dtype == np.uint8
        assert npz["images"].shape == (len(available_brain_slices()), 256, 256)
        assert tuple(npz["indices"].tolist()) == available_brain_slices()
        assert str(npz["notice"]) == TEMPLATE_NOTICE
        assert "mni_icbm152_t1_tal_nlin_sym_09a" in str(npz["source"])
    assert "Louis Collins" in TEMPLATE_NOTICE and "all copies" in TEMPLATE_NOTICE


def test_readme_records_source_and_notice():
    text = " ".join((DATA / "README.md").read_text(encoding="utf-8").split())
    assert "brain_slices.npz" in text and "MNI ICBM152 2009a" in text
    assert " ".join(TEMPLATE_NOTICE.split()) in text


def test_library_does_not_import_nibabel_or_nilearn():
    code = (
        "import sys; import odl; before = set(sys.modules);"
        "import odl_bilevel.datasets as d; d.brain_slices(2, size=96); d.brain_train_test(2, 1);"
        "new = [m for m in set(sys.modules) - before"
        " if m.split('.')[0] in ('nibabel', 'nilearn', 'skimage', 'matplotlib')];"
        "assert not new, new"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_readers_give_clear_import_errors():
    code = (
        "import sys, importlib.util\n"
        "from odl_bilevel.datasets import load_template_slices\n"
        "def message():\n"
        "    try:\n        load_template_slices()\n"
        "    except ImportError as err:\n        return str(err)\n"
        "    raise SystemExit('no ImportError')\n"
        "has_nibabel = importlib.util.find_spec('nibabel') is not None\n"
        "sys.modules['nibabel'] = None\n"
        "assert 'pip install nibabel' in message()\n"
        "if has_nibabel:\n"
        "    del sys.modules['nibabel']; sys.modules['nilearn'] = None\n"
        "    text = message()\n"
        "    assert 'nilearn' in text and '`path`' in text, text\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_template_reader_matches_the_embedded_slices():
    pytest.importorskip("nibabel")
    pytest.importorskip("nilearn")
    idx = available_brain_slices()[::7]
    slices, got = load_template_slices(indices=idx, size=64)
    assert tuple(got.tolist()) == idx
    for s, e in zip(slices, brain_slices(indices=idx, size=64), strict=True):
        np.testing.assert_array_equal(s, e)
    kept = load_template_slices(min_coverage=0.3, size=16)[1]
    assert set(available_brain_slices()) <= set(kept.tolist())
    coronal, _ = load_template_slices(axis=1, indices=[116], size=32)
    assert coronal[0].shape == (32, 32) and coronal[0].max() > 0.5


def test_generator_script_check_passes():
    pytest.importorskip("nibabel")
    pytest.importorskip("nilearn")
    assert _tool().main(["--check"]) == 0
