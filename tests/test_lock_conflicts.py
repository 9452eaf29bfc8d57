"""A request whose transaction PostgreSQL aborts for a lock conflict runs again, whole."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.registration.models import MemberOrganisation
from shared.db import db
from shared.web import create_service_app

pytestmark = pytest.mark.postgresql_only

#: PostgreSQL itself raising the SQLSTATEs its lock manager uses
RAISE = "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{}'; END $$"


@pytest.fixture
def app(settings, databases, clean):
    if databases.kind != "postgresql":
        pytest.skip("lock conflicts are PostgreSQL behaviour")
    app = create_service_app("registration", [], settings)
    attempts: list[int] = []

    @app.post("/conflicted/<sqlstate>/<int:failures>")
    def conflicted(sqlstate: str, failures: int):
        attempts.append(1)
        db.session.add(MemberOrganisation(name=f"City {len(attempts)}", country="FR"))
        db.session.flush()
        if len(attempts) <= failures:
            db.session.execute(sa.text(RAISE.format(sqlstate)))
        db.session.commit()
        return {"attempts": len(attempts)}

    app.attempts = attempts
    return app


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlocked_or_serialization_failed_request_runs_again(app, sqlstate):
    response = app.test_client().post(f"/conflicted/{sqlstate}/2")
    assert response.status_code == 200
    assert response.json == {"attempts": 3}
    with app.app_context():
        # Only the attempt that committed left its row: the aborted ones wrote nothing.
        assert db.session.scalars(sa.select(MemberOrganisation.name)).all() == ["City 3"]


def test_retries_are_bounded_and_other_errors_are_not_retried(app):
    assert app.test_client().post("/conflicted/40P01/99").status_code == 500
    assert len(app.attempts) == 5
    app.attempts.clear()
    assert app.test_client().post("/conflicted/23505/1").status_code == 500
    assert len(app.attempts) == 1
