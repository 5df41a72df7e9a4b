"""schemathesis over the whole OpenAPI document, against the app through WSGI: cases made
from each operation's schemas, and from their negations, must get answers that are no server
error, use a documented status code and content type, and match the documented schema.

The operations are walked here rather than through schemathesis's pytest plugin, whose lazy
fixture loader does not run under this pytest; each gets its own bounded hypothesis run."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.blueprints.brand_api.chain_world import API

# Per operation and generation mode; bounded so the run takes a few minutes at most.
EXAMPLES_PER_OPERATION = 10


def _check(operation, mode, headers):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def keeps_the_contract(case):
        # Every check but "schema-valid data is accepted": here validity also depends on the
        # data (the ids must be the chain's, a cursor one the API issued, a name visible), which
        # no schema can say; such requests get a documented 422, which the other checks judge.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    keeps_the_contract()


def test_the_api_keeps_its_openapi_contract(bound_app, acme):
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", bound_app)
    headers = {"Authorization": f"Bearer {acme.tenant.key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _check(operation, mode, headers)
