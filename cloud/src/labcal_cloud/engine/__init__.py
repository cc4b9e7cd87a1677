"""LabCal engine: calibration records, due state, predictive maintenance (pure functional core).

Nothing in this package reads the clock, a database or the network: time, ids and random
generators are passed in. The shell (scheduler, CLI, ingest hooks) wires it to storage.
"""
