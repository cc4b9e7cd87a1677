"""LabCal firmware simulator: balances, smart pipettes, sensors, scanners and fleets.

Layout (zigpy-znp / OctoPrint virtual-printer pattern, design.md §8):

* ``physics/`` — pure models (balance, pipette wear, environment, pipette → balance coupling);
  time and randomness come in as arguments (:mod:`labcal_sim.ports`).
* ``devices/`` — protocol state machines: bytes in, bytes out, built from ``labcal_shared`` codecs.
* ``faults.py`` — fault switches applied to a device's output (garbage, drop, truncate, silence,
  slow replies).
* ``transport/`` — pseudo-terminals (with stable symlinks and hot-plug), TCP, in-process links.
* ``serve.py`` — the loop that joins one device to one endpoint.
* ``fleet/`` — accelerated-time fleets of pipettes with wear and failure ground truth.
* ``cli.py`` — the ``labcal-sim`` composition root.
"""
