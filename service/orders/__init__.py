"""Orders, their work items (one per factory part) and the milestone timeline."""
