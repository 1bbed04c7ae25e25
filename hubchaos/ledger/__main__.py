"""`python -m hubchaos.ledger STATE_DIR`: the dead man's switch (see watchdog.py)."""

import sys
from pathlib import Path

from hubchaos.ledger.watchdog import run

sys.exit(run(Path(sys.argv[1])))
