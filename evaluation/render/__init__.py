"""Render: run the report notebooks in warm kernels and publish a run folder."""
