"""Analysis of runs and sweeps: statistics, summaries, sensitivity, stylised facts, export."""
