"""`python -m animator.families.svd.train`, the same as `python -m animator train`."""

import sys

from animator.families.svd.train.cli import main

sys.exit(main())
