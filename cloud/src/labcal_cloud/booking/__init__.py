"""Booking: suggested slots from provider capacity, bundles per site, reminder-link booking."""
