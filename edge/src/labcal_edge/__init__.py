"""LabCal edge agent: drivers, station workflows, durable outbox and MQTT publisher."""

__version__ = "0.1.0"
