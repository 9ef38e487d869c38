"""AWS Glue entry script of the CDC job (locally: spark-submit python/glue/cdc_to_lake.py --option value ...).

The logic lives in the `glue` package, shipped to Glue with --extra-py-files; this file only starts it.
"""

import sys
from pathlib import Path

try:
    from glue.job import main
except ImportError:
    # Run as a file from a checkout: the package is this file's folder.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from glue.job import main

if __name__ == "__main__":
    main(sys.argv)
