"""Artifact promotion: the confidence score the promotion Job computes."""
