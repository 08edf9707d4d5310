"""Scenario files (format v1), the window simulator and the simulated workload."""
