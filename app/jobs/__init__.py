"""Periodic jobs. Each is idempotent; `app/scheduler.py` declares when they run."""
