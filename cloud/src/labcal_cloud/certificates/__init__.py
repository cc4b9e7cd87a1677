"""Calibration certificates: the protocol document, PDF rendering, PAdES signing, verification."""
