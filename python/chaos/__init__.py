"""The fault suite (`make chaos`): faults injected into the running local stack under a journaled load, and the lake
checked against the source after each (faults, suite, report)."""
