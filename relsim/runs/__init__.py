"""Runs and sweeps: one run's tables, experiments, sampling designs, executors and the store."""
