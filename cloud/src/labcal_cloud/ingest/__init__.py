"""Ingest: MQTT shared subscription → validate → store idempotently → ack after commit."""
