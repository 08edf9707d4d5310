"""Decision log, outcome labels and threshold calibration."""
