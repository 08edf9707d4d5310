"""The decision core: resource models, analysis, judges and the state machine. Pure: no I/O."""
