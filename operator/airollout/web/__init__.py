"""The Argo Rollouts analysis endpoint: the judge behind an AnalysisTemplate `web` metric."""
