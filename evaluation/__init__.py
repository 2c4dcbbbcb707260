"""Evaluation workbench."""
