"""The LabCal portal and REST API (FastAPI + Jinja2); ``create_app`` is the composition root."""
