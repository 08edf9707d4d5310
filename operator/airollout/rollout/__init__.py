"""The rollout step state machine: pure functions from (status, event) to (status, actions)."""
