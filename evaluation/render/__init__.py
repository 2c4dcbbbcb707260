"""Stage 4, render: run the report notebooks in warm kernels and publish a run folder."""
