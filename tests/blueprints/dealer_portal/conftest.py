import pytest

from blueprints.rate_limits import limiter


@pytest.fixture(autouse=True)
def fresh_rate_limits(app):
    """Every test starts with no failed sign-ins counted (only this run's keys are cleared)."""
    app.extensions["redis"].url  # noqa: B018 (starts the embedded server if need be)
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def client(bound_app):
    """A browser that asks for English, as the tests' texts are written in it: without the
    header the portal speaks Chinese (tests of that say so with their own headers)."""
    client = bound_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
