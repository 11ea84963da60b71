"""``python -m hfs_emg``: the ``hfs-emg`` command line."""

import sys

from .pipeline.cli import main

sys.exit(main())
