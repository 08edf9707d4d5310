"""kopf handlers and the thin Kubernetes I/O around the pure state machine."""
