"""PSNR and SSIM summaries of reconstructions, shared by the denoising and MRI jobs."""

import numpy as np

from ..metrics import psnr, ssim

__all__ = ["image_scores"]


def image_scores(recons, clean):
    """Return PSNR and SSIM (data range 1) per image, with their means and standard deviations.

    An empty ``clean`` gives an empty dict.
    """
    if not clean:
        return {}
    p = [psnr(r, c, data_range=1.0) for r, c in zip(recons, clean, strict=True)]
    s = [ssim(r, c, data_range=1.0) for r, c in zip(recons, clean, strict=True)]
    return {
        "psnr_mean": float(np.mean(p)),
        "psnr_std": float(np.std(p)),
        "ssim_mean": float(np.mean(s)),
        "ssim_std": float(np.std(s)),
        "psnr": [float(v) for v in p],
        "ssim": [float(v) for v in s],
    }
