"""``python -m replication.bench``: the benchmark (its workers run this way, one per model)."""

import sys

from replication.bench import main

sys.exit(main())
