"""The Kubernetes API: clients, the objects the operator reads and writes, Events, decision logs."""
