"""HTTP: the Argo Rollouts web-metric endpoint, health and /metrics."""
