"""Test selection's outside world: pytest under coverage, JUnit files, git, the index file."""
