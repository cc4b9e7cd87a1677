"""LabCal's shared core: message contracts, topics, ISO 8655 math and balance protocol codecs.

Everything here is pure (no serial, MQTT, SQL, HTTP, clock or randomness); the edge, the cloud and
the simulator build on it.
"""

__version__ = "0.1.0"
