"""Ingest/storage migrations (versions 0001-0099), one folder per backend."""
