"""MLflow tracking: every rollout a run, every recalibration a run with its policy."""
