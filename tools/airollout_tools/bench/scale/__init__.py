"""The operator-scale benchmark: many AIRollouts at once against the real local control plane."""
