"""Running the dashboard as a service: heartbeats, health, metrics, alerts and structured logs."""
