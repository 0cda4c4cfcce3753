"""CRM Companion: a desktop app that helps a small-business owner stay close to customers.

This module is the single source of the names and version used by the CLI, the GUI and
packaging. It must stay import-light: `crmcompanion --version` reads it without Qt.
"""

import os

# numpy (similar complaints) and tokenizers start thread pools on first use; the app's matrices
# are small (a dot product against 10,000 rows), and a process with extra threads may no
# longer fork its import helpers (infra.forking.can_fork). One thread each is faster here
# (measured in benchmarks/similarity.py) and keeps forking possible. setdefault: a user's own
# setting wins. Set here because it must happen before numpy is first imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
APP_NAME = "CRM Companion"
APP_ID = "io.github.crmcompanion.CRMCompanion"
APP_SLUG = "crmcompanion"
