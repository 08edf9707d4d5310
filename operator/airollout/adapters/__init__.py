"""Adapters: the code that talks to Kubernetes, Prometheus and LLM endpoints for the core."""
