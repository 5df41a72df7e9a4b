"""Progress: the milestones, recording a reported step (the brand's API, a factory's webhook),
the factory's report log (a webhook-id answered once), and what a report's dates may be."""
