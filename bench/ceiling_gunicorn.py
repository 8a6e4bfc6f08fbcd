"""gunicorn's settings for the ceiling (`-c python:bench.ceiling_gunicorn`): its workers share
out new connections as Kern's do (api/worker_balance.py), so the two differ only in the
application."""

from api.worker_balance import Shares

# Slots for more workers than the bench starts; a free slot costs nothing.
_shares = Shares(8)
pre_fork = _shares.pre_fork
child_exit = _shares.child_exit
