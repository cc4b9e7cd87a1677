"""The portal's SQL migrations (versions 0200-0299), per backend; see ``portal/schema.py``."""
