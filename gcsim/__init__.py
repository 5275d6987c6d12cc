"""gcsim: a cycle-level performance model of the Go runtime's memory system.

The model follows go1.27.3 (see ``gcsim.goruntime.GO_VERSION``); every number it
prints is meant to be the number real Go would show on the same workload.
"""

__version__ = "0.1.0"
