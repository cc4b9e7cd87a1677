"""Device registry: claim codes and QR labels, manual add, CSV import, due overview."""
