"""Plots and reports of runs and sweeps."""
