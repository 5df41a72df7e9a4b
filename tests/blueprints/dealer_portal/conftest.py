import pytest

from blueprints.rate_limits import limiter


@pytest.fixture(autouse=True)
def fresh_rate_limits(app):
    """Every test starts with no failed sign-ins counted (only this run's keys are cleared)."""
    app.extensions["redis"].url  # noqa: B018 (starts the embedded server if need be)
    limiter.reset()
    yield
    limiter.reset()
