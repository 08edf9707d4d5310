"""Judges (rules and statistics, LLM) and the policy that combines them."""
