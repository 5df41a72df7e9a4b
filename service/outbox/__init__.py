"""The outbox: events for the outside world, written in the transaction that caused them."""
