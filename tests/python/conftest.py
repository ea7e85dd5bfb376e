"""The tests of the Python package run against the source tree (python/) with Debian's /usr/bin/python3."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
