"""Stations: registration, broker credentials (mosquitto_passwd hashes) and ACL entries."""
