"""The feedback loop as an app: reads the decision log, finished rollouts and Prometheus,
labels outcomes with `airollout.core.feedback`, writes policies, MLflow runs and a report.
Beside `controller/` and `web/`: it imports the adapters and the core, neither of those
imports it.
"""
