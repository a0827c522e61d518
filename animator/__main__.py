"""`python -m animator ...`: see animator/cli.py."""

from animator.cli import main

raise SystemExit(main())
