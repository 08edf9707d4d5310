"""Metric evaluation: hard bounds and anytime-valid canary-versus-stable statistics. Pure."""
