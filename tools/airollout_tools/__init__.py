"""Tools beside the operator, not needed to run it: the scenario simulator and the benchmarks."""
