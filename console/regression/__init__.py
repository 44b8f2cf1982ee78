"""Regression cases, assertions, targets, the runner and baseline comparison. Nothing here imports Textual."""
