"""The WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""

import gc

from pipeline import create_app

app = create_app()
# What start-up made lives as long as the process, so the garbage collector's full passes need not walk it each
# time: about 130,000 objects, a pass of 80 ms measured here, paid by whichever request happened to set one off.
gc.freeze()
