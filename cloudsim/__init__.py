"""A small Keystone v3 + Cinder v3 simulator for the snapshot dashboard's tests and benchmarks.

Run it with ``python -m cloudsim``; see ``cloudsim/README.md``.
"""

MIN_VERSION = "3.0"
MAX_VERSION = "3.71"
