"""Benchmarks: decision quality against peer baselines, operator scale."""
