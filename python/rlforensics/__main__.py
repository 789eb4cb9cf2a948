"""``python -m rlforensics`` runs the command line (see :mod:`rlforensics.cli`)."""

import sys

from rlforensics.cli import main

sys.exit(main())
