"""Reminders, pure core: nudge sequences, quiet hours, signed booking links, A/B variants,
message texts. The scheduler (:mod:`labcal_cloud.scheduler`) stores and delivers them."""
