"""schemathesis against the OpenAPI document, every service really running.

Bounded: a few generated requests per operation, to 127.0.0.1 only. Each response must
not be a 5xx and must match the document (status code, content type, body schema).
The two event streams are left out (they never end by design; the e2e tests cover them).
The platform runs in a child process here (see tests/gateway/stack_process.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import hypothesis
import pytest
import pytest_asyncio
import schemathesis
from schemathesis.checks import not_a_server_error

# Imported here, at collection, not lazily inside a fixture: CPython 3.11 can fail to
# compile a module ("AST constructor recursion depth mismatch") while other threads of
# the test process (gRPC, thread pools) are running, and schemathesis loads its OpenAPI
# adapters on first use.
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gateway.openapi_routes import event_stream_routes, openapi_document
from tests.gateway.stack_process import stack_in_child_process
from tests.testkit.services import create_user, user_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 6
PHASES = ["examples", "fuzzing"]
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture(scope="module")
def base_url(stack_database) -> Iterator[str]:
    with stack_in_child_process(stack_database) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(base_url):
    """The document the running gateway serves (checked equal to the app's own)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    assert schema.raw_schema == openapi_document()
    # The coverage phase sends every boundary case of every field regardless of
    # max_examples (thousands for a strategy config): too slow for every run.
    schema.config.phases.update(phases=PHASES)
    return schema


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fuzz_headers(stack_database) -> dict[str, str]:
    user_id = await create_user(stack_database)
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
    case, base_url, fuzz_headers
):
    case.call_and_validate(base_url=base_url, headers=fuzz_headers, checks=CHECKS)
