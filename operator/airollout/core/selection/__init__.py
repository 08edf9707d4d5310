"""Test selection: which tests can catch a regression in a change, and how to shard them.

Pure: the index, the diff and the rules come in as values; the adapters build them.
"""
