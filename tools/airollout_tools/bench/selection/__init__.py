"""`airollout bench selection`: test selection on a repository's real history, with real faults."""
