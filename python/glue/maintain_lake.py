"""AWS Glue entry script of the lake's maintenance job (locally: python -m glue.run_local --maintenance).

The same options as the CDC job (cdc_to_lake.py); the logic lives in glue.maintenance.
"""

import sys
from pathlib import Path

try:
    from glue.maintenance import main
except ImportError:
    # Run as a file from a checkout: the package is this file's folder.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from glue.maintenance import main

if __name__ == "__main__":
    main(sys.argv)
