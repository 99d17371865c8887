"""The mapped classes round-trip through a real SQLite database."""

import datetime as dt

import pytest
import sqlalchemy as sa

from multiflexi.core import models as m


def test_application_with_fields_round_trips_and_times_are_utc(session):
    app = m.Application(name="probe", executable="/usr/bin/probe", tags=["test"])
    app.fields.append(m.ApplicationField(name="FOO", type="string", position=0))
    app.fields.append(m.ApplicationField(name="SECRET", type="password", secret=True, position=1))
    session.add(app)
    session.commit()
    session.expire_all()

    loaded = session.get(m.Application, app.id)
    assert loaded is not None
    assert [f.name for f in loaded.fields] == ["FOO", "SECRET"]
    assert loaded.field("SECRET").secret is True
    assert loaded.tags == ["test"]
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(session):
    company = m.Company(name="Acme", slug="acme")
    app = m.Application(name="a", executable="/bin/true")
    session.add_all([company, app])
    session.flush()
    rt = m.RunTemplate(company_id=company.id, application_id=app.id, name="rt")
    rt.next_schedule = dt.datetime(2026, 1, 1, 12, 0)  # naive: whose local time?
    session.add(rt)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        session.flush()


def test_deleting_a_company_removes_its_run_templates_and_jobs(session):
    company = m.Company(name="Acme", slug="acme")
    app = m.Application(name="a", executable="/bin/true")
    session.add_all([company, app])
    session.flush()
    rt = m.RunTemplate(company_id=company.id, application_id=app.id, name="rt")
    session.add(rt)
    session.flush()
    session.add(
        m.Job(
            run_template_id=rt.id,
            company_id=company.id,
            application_id=app.id,
            scheduled_at=dt.datetime.now(dt.UTC),
        )
    )
    session.commit()
    session.delete(company)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(m.RunTemplate)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Job)) == 0
    assert session.get(m.Application, app.id) is not None


def test_every_mapped_table_has_every_column_mapped_under_its_own_name():
    from multiflexi.database import tables as t

    mappers = {mapper.local_table.name: mapper for mapper in m.Base.registry.mappers}
    # written with Core statements only: job_counts (multiflexi.core.jobcounts) and
    # login_throttles (multiflexi.core.throttle)
    assert set(mappers) == set(t.metadata.tables) - {"job_counts", "login_throttles"}
    for name, mapper in mappers.items():
        table = t.metadata.tables[name]
        assert mapper.local_table is table
        for column in table.columns:
            assert mapper.columns[column.key] is column
            (mapped,) = getattr(mapper.class_, column.key).property.columns
            assert mapped is column
