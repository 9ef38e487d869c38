"""AWS Glue entry script of the lake's scheduled verification (`make verify` is its local form).

The CDC job's options (cdc_to_lake.py) and the source's (glue.reconcile.VERIFY_OPTIONS); the logic lives in
glue.reconcile.
"""

import sys
from pathlib import Path

try:
    from glue.reconcile import main
except ImportError:
    # Run as a file from a checkout: the package is this file's folder.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from glue.reconcile import main

if __name__ == "__main__":
    main(sys.argv)
