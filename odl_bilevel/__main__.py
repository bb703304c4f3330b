"""``python -m odl_bilevel`` runs the command line (same as ``odl-bilevel``)."""

import sys

from odl_bilevel.cli import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
