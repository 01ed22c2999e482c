"""WSGI entry point for other servers: ``gunicorn hookline.wsgi:app``."""

from hookline.app import create_app

app = create_app()
