"""Regenerate ``odl_bilevel/datasets/data/natural_images.npz`` from scikit-image.

The natural test images that ship inside odl_bilevel are small grey crops of
images bundled in scikit-image's wheel (``skimage.data``; only images whose
files ship in the wheel are used, never the ones that download on first use).
This script is the single record of how the crops were made; the library
itself never imports scikit-image.

Each image is converted to grey (``skimage.color.rgb2gray``, ITU-R BT.709
luma, for colour images; ``value / 255`` for grey ones), a square box
``(top, left, side)`` is cut out, the box is averaged over ``side/128 x
side/128`` blocks down to 128 x 128 pixels, the crop is stretched linearly to
the full range [0, 1] (minimum to 0, maximum to 1) and it is stored as uint8
(``round(255 * value)``).

Usage (scikit-image is a development tool only, not a dependency)::

    pip install scikit-image
    python tools/make_embedded_images.py            # writes the npz
    python tools/make_embedded_images.py --check    # compares with the shipped npz

The source and licence of every image is in
``odl_bilevel/datasets/data/README.md``; update it when the list changes.
"""

import argparse
import pathlib
import sys

import numpy as np

__all__ = ["BOXES", "SIZE", "make_images", "main"]

SIZE = 128

# name: (top, left, side); side is a multiple of SIZE and the box lies inside the image.
BOXES = {
    "camera": (0, 0, 512),
    "astronaut": (0, 64, 384),
    "coffee": (8, 108, 384),
    "chelsea": (30, 140, 256),
    "coins": (24, 64, 256),
    "brick": (0, 0, 256),
    "grass": (0, 0, 256),
    "gravel": (0, 0, 256),
    "text": (22, 150, 128),
    "cell": (276, 166, 384),
}

OUTPUT = (
    pathlib.Path(__file__).resolve().parents[1]
    / "odl_bilevel"
    / "datasets"
    / "data"
    / "natural_images.npz"
)


def _grey(image):
    from skimage.color import rgb2gray

    if image.ndim == 3:
        return rgb2gray(image[..., :3]).astype(np.float64)
    if image.dtype != np.uint8:
        raise TypeError(f"expected a uint8 grey image, got {image.dtype}")
    return image.astype(np.float64) / 255.0


def _crop(name, image, box):
    top, left, side = box
    if side % SIZE:
        raise ValueError(f"{name}: box side {side} is not a multiple of {SIZE}")
    if top + side > image.shape[0] or left + side > image.shape[1]:
        raise ValueError(f"{name}: box {box} does not fit the image {image.shape}")
    crop = image[top : top + side, left : left + side]
    factor = side // SIZE
    crop = crop.reshape(SIZE, factor, SIZE, factor).mean(axis=(1, 3))
    low, high = crop.min(), crop.max()
    crop = (crop - low) / (high - low)
    return np.round(255.0 * crop).astype(np.uint8)


def make_images():
    """Return ``(names, images, boxes)`` with ``images`` of shape (k, 128, 128) uint8."""
    from skimage import data

    names = list(BOXES)
    images = np.stack([_crop(n, _grey(getattr(data, n)()), BOXES[n]) for n in names])
    boxes = np.array([BOXES[n] for n in names], dtype=np.int64)
    return np.array(names), images, boxes


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="compare with the existing file, write nothing"
    )
    args = parser.parse_args(argv)
    names, images, boxes = make_images()
    if args.check:
        with np.load(args.output, allow_pickle=False) as stored:
            same = (
                np.array_equal(stored["names"], names)
                and np.array_equal(stored["images"], images)
                and np.array_equal(stored["boxes"], boxes)
            )
        print("up to date" if same else f"{args.output} differs from a fresh build")
        return 0 if same else 1
    np.savez_compressed(args.output, names=names, images=images, boxes=boxes)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, {len(names)} images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
