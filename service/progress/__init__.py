"""Progress reports from factories: signed webhooks, recorded once per webhook-id."""
