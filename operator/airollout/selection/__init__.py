"""Test selection: the logic the selection Job runs."""
