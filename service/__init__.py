"""Chain Collab's domain: models and the logic as plain functions over a session. The app
factory (service.app), the CLI and the supervisor are its entry points; importing the domain
imports none of them."""
