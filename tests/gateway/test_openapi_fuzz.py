"""schemathesis against the OpenAPI document, every service really running.

Bounded: a few generated requests per operation, to 127.0.0.1 only. Each response must
not be a 5xx and must match the document (status code, content type, body schema).
The two event streams are left out (they never end by design; the e2e tests cover them).
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gateway.openapi_routes import event_stream_routes, openapi_document
from tests.testkit.services import create_user, user_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 6
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture(scope="module")
def api_schema(stack):
    """The document the running gateway serves (checked equal to the app's own)."""
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")
    assert schema.raw_schema == openapi_document()
    return schema


@pytest.fixture(scope="module")
def fuzz_headers(stack, stack_database) -> dict[str, str]:
    user_id = stack.run(create_user(stack_database))
    return {"Authorization": f"Bearer {user_token(user_id)}"}


schema = schemathesis.pytest.from_fixture("api_schema")
for _method, _path in sorted(event_stream_routes()):
    schema = schema.exclude(method=_method, path=_path)


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_operation_when_fuzzed_answers_without_5xx_and_matches_its_schema(
    case, stack, fuzz_headers
):
    case.call_and_validate(base_url=stack.base_url, headers=fuzz_headers, checks=CHECKS)
