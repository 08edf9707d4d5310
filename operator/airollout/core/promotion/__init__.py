"""The promotion score: signals in, a calibrated P(no regression), hard blocks and a tier out.

Pure: the report parsers (adapters, CLI) turn tool output into `Signals`; this package only
computes. `fit` refits the model from labelled outcomes (scikit-learn, no I/O).
"""
