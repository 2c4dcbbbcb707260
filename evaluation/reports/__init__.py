"""Reports: what the report notebooks (in notebooks/ here) call, one module per report."""
