"""Command-line interface: ``odl-bilevel learn`` and ``odl-bilevel demo``.

The top layer: it configures logging, draws the progress bar and writes
results; nothing in the library imports it.
"""

from ._config import ConfigError, load_config, validate_config
from ._main import DEMO_CONFIG, main
from ._mri_job import build_mri_data, score_baseline

__all__ = [
    "DEMO_CONFIG",
    "ConfigError",
    "build_mri_data",
    "load_config",
    "main",
    "score_baseline",
    "validate_config",
]
