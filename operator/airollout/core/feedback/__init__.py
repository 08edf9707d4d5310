"""The feedback loop's pure core: outcome labels, scores of past decisions, drift, policy.

Pure: finished rollouts, test plans, full runs and breach answers come in as values; the
feedback app (`airollout.feedback`) reads them from the decision log, the cluster and
Prometheus, and writes what this package returns.
"""
