"""RQ jobs. Each opens its own sessions, is idempotent and safe to run twice."""
