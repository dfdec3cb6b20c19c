"""Broadcasts: the dashboard page and the `flask broadcast` commands."""
