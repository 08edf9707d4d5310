"""Commands people run against a cluster: control and follow AIRollouts from the CLI."""
