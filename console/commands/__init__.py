"""Headless commands' bodies; console/cli.py declares the options and imports these lazily."""
