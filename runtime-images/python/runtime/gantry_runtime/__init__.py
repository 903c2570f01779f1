"""Gantry's Python runtime client for the Lambda Runtime API (see ../bootstrap.py)."""
