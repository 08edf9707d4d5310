"""Helpers the tests share: test doubles, builders and drivers, imported as tests.support.<name>."""
