"""Engine, scheduler and notify tables (versions 0100-0199)."""
