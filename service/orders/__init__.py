"""Orders and their work items (one per factory part). Their milestones move in
service/progress, which keeps the timeline."""
