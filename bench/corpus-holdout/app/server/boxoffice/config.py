"""Runtime settings of the box office."""

import os

RELEASE = os.environ.get("BOXOFFICE_RELEASE", "5.3.0")
AVAILABILITY_URL = "http://127.0.0.1:9/availability"  # the seat-availability service (often down)
