"""Schemathesis against every service's own `/openapi.json`, anonymously and with an admin
token: generated requests (valid and invalid, Hypothesis) to every operation, in process
(WSGI), on the suite's database. No answer may be a 5xx, every status must be one the
document names, and every JSON answer must match its documented schema.

Bounded: MAX_EXAMPLES per operation (MAX_PDF_EXAMPLES for a PDF), no shrinking and no example database, so a run costs
about the same each time. The figures (operations, requests, 5xx) are printed per service.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import event_payload, person
from tests.orders.conftest import publication_payload

#: generated cases per operation and caller (2 callers x 64 operations: about a minute in all)
MAX_EXAMPLES = 30
#: for an operation answering a PDF, which takes WeasyPrint a good part of a second to render
MAX_PDF_EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def seed(apps, admin: dict[str, str]) -> None:
    """Something for the generated requests to find: an event with a registration, a publication."""
    registration, orders = apps["registration"].test_client(), apps["orders"].test_client()
    assert registration.post("/api/v1/events", json=event_payload(), headers=admin).status_code == 201
    assert registration.post("/api/v1/events/police-academy-lisbon/registrations", json=person(1)).status_code == 201
    assert orders.post("/api/v1/publications", json=publication_payload(), headers=admin).status_code == 201


def fuzz(app, headers: dict[str, str]) -> tuple[int, Counter, list[str]]:
    """Run every operation of `app`'s document; (operations, statuses answered, failures)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    statuses: Counter = Counter()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        answers_pdf = "application/pdf" in operation.definition.raw["responses"].get("200", {}).get("content", {})

        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
               | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(max_examples=MAX_PDF_EXAMPLES if answers_pdf else MAX_EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except AssertionError as error:  # schemathesis' failures are AssertionErrors
                failures.append(f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                                f"{str(error).strip().splitlines()[0]}")

        run()
    return operations, statuses, failures


@pytest.mark.postgresql_only
@pytest.mark.parametrize("service", ["registration", "orders", "notify"])
def test_generated_requests_get_no_server_error_and_match_the_document(apps, service, staff_token, request):
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    seed(apps, admin)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    found: list[str] = []
    for caller, headers in (("anonymous", {}), ("admin", admin)):
        operations, statuses, failures = fuzz(apps[service], headers)
        server_errors = sum(count for status, count in statuses.items() if status >= 500)
        with capture.global_and_fixture_disabled():
            print(f"\nschemathesis {service} ({caller}): {operations} operations, {sum(statuses.values())} requests, "
                  f"{server_errors} 5xx; statuses {dict(sorted(statuses.items()))}", flush=True)
        assert operations and statuses
        found += [f"{caller}: {failure}" for failure in failures]
    unique = sorted(set(found))
    assert not unique, f"{len(unique)} failures:\n" + "\n".join(unique[:40])
