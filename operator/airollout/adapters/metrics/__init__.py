"""Metric providers (Prometheus first) and query templating."""
