"""``python -m autograd_viz ...`` is the ``autograd-viz`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
