"""Command-line interface: ``odl-bilevel learn`` and ``odl-bilevel demo``.

The top layer: it configures logging, draws the progress bar and writes
results; nothing in the library imports it.
"""

from ._config import ConfigError, load_config, validate_config
from ._main import DEMO_CONFIG, main

__all__ = ["DEMO_CONFIG", "ConfigError", "load_config", "main", "validate_config"]
