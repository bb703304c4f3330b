"""Regenerate ``odl_bilevel/datasets/data/brain_slices.npz`` from nilearn's MNI template.

The real brain MRI slices that ship inside odl_bilevel are axial planes of the
MNI ICBM152 2009a symmetric T1 template
(``nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz``,
197 x 233 x 189 voxels of 1 mm, uint8 grey levels 0..255, skull-stripped),
which nilearn's wheel bundles (nothing is downloaded). This script is the
record of how they were made; the library reads the npz with NumPy only.

Each slice is read by :func:`odl_bilevel.datasets.load_template_slices` (the
same code users call for more slices): the volume is reoriented to RAS, the
axial plane ``z = k`` is shown anterior up, zero-padded and centred on a
256 x 256 grid (11 rows above, 29 columns left) and divided by the fixed
global scale 255, the template's maximum. The slices ``z = 25, 30, ..., 140``
(24 planes, 5 mm apart) span the brain from the cerebellum to the vertex; each
has a brain area of at least 30 % of the largest axial one (near-empty planes
are left out). They are stored as uint8 (``round(255 * value)``, which is
lossless here since the template is 8-bit) with their indices and the
template's copyright notice.

Usage (nibabel and nilearn are development tools here, not run-time needs)::

    pip install nibabel nilearn
    python tools/make_brain_slices.py            # writes the npz
    python tools/make_brain_slices.py --check    # compares with the shipped npz

The source and the copyright notice are in
``odl_bilevel/datasets/data/README.md``; update it when the selection changes.
"""

import argparse
import pathlib
import sys

import numpy as np

from odl_bilevel.datasets import TEMPLATE_NOTICE, load_template_slices

__all__ = ["AXIS", "INDICES", "MIN_COVERAGE", "SOURCE", "make_slices", "main"]

AXIS = 2  # axial
INDICES = tuple(range(25, 141, 5))
MIN_COVERAGE = 0.3
SOURCE = (
    "MNI ICBM152 2009a symmetric T1 template, "
    "nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz "
    "(197 x 233 x 189 voxels, 1 mm); axial slices z = indices, anterior up, "
    "zero-padded and centred to 256 x 256, value = grey level / 255"
)

OUTPUT = (
    pathlib.Path(__file__).resolve().parents[1]
    / "odl_bilevel"
    / "datasets"
    / "data"
    / "brain_slices.npz"
)


def make_slices():
    """Return the arrays of the npz: ``images`` (k, 256, 256) uint8, ``indices`` and metadata."""
    _, kept = load_template_slices(axis=AXIS, min_coverage=MIN_COVERAGE)
    missing = sorted(set(INDICES) - {int(k) for k in kept})
    if missing:
        raise ValueError(f"slices {missing} cover less than {MIN_COVERAGE:.0%} of the brain")
    slices, indices = load_template_slices(axis=AXIS, indices=INDICES, size=256, scale=255.0)
    images = np.stack([np.round(255.0 * s).astype(np.uint8) for s in slices])
    if not np.array_equal(images / 255.0, np.stack(slices)):
        raise ValueError("the template is not 8-bit: uint8 storage would lose information")
    return {
        "images": images,
        "indices": np.asarray(indices, dtype=np.int64),
        "axis": np.int64(AXIS),
        "scale": np.float64(255.0),
        "source": np.str_(SOURCE),
        "notice": np.str_(TEMPLATE_NOTICE),
    }


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="compare with the existing file, write nothing"
    )
    args = parser.parse_args(argv)
    arrays = make_slices()
    if args.check:
        with np.load(args.output, allow_pickle=False) as stored:
            same = set(stored.files) == set(arrays) and all(
                np.array_equal(stored[k], v) for k, v in arrays.items()
            )
        print("up to date" if same else f"{args.output} differs from a fresh build")
        return 0 if same else 1
    np.savez_compressed(args.output, **arrays)
    print(
        f"wrote {args.output} ({args.output.stat().st_size} bytes, "
        f"{len(arrays['indices'])} slices: {arrays['indices'].tolist()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
