"""Chain Collab's domain: models and plain functions over a session, config, the database and
Redis. The app factory is service.app, an entry point above the doors and the jobs: nothing
here imports it, so that a job or a script reaching the domain does not build the app."""
