"""Traffic routers: move the canary's share of traffic (replica ratio first)."""
