"""Image quality metrics: PSNR and SSIM (own implementations, NumPy and SciPy only).

A leaf beside the stack (DESIGN.md §2). Inputs may be NumPy arrays or ODL
elements, 1-D signals or 2-D images; results are Python floats.
"""

from ._psnr import psnr
from ._ssim import ssim

__all__ = ["psnr", "ssim"]
