"""Natural-key lookups of run templates, and reading a job's artifacts."""

from __future__ import annotations

import datetime as dt

import pytest

from multiflexi.core import companies, job_artifacts, jobs, lookups, models, runtemplates
from multiflexi.core.audit import Actor
from multiflexi.core.errors import NotFound

ME = Actor.system("tests")


@pytest.fixture
def two_companies(session, app):
    made = {}
    for slug in ("alpha", "beta"):
        company = companies.create(session, name=slug, slug=slug, actor=ME)
        rt = runtemplates.create(
            session, company=company.id, app_id=app.id, actor=ME, name="nightly", active=False
        )
        made[slug] = (company, rt)
    return made


def test_run_templates_are_found_by_exact_name_within_the_given_companies(session, two_companies):
    alpha, alpha_rt = two_companies["alpha"]
    beta, beta_rt = two_companies["beta"]
    assert [r.id for r in lookups.run_templates_named(session, "nightly")] == [
        alpha_rt.id,
        beta_rt.id,
    ]
    assert lookups.run_templates_named(session, "nightly", company_id=beta.id) == [beta_rt]
    assert lookups.run_templates_named(session, "nightly", company_ids={alpha.id}) == [alpha_rt]
    assert lookups.run_templates_named(session, "Nightly") == []


def test_artifacts_are_read_inline_or_from_their_file(session, two_companies, tmp_path):
    _, rt = two_companies["alpha"]
    job = jobs.create(
        session, rt, scheduled_at=dt.datetime.now(dt.UTC), schedule_type="adhoc", actor=ME
    )
    stored = tmp_path / "big.bin"
    stored.write_bytes(b"on disk")
    inline = models.Artifact(
        job_id=job.id, name="a.txt", content_type="text/plain", size=2, content=b"hi"
    )
    on_disk = models.Artifact(
        job_id=job.id,
        name="big.bin",
        size=7,
        path=str(stored),
        content_type="application/octet-stream",
    )
    gone = models.Artifact(
        job_id=job.id,
        name="gone",
        size=1,
        path=str(tmp_path / "nope"),
        content_type="application/octet-stream",
    )
    session.add_all([inline, on_disk, gone])
    session.commit()
    assert [a.name for a in job_artifacts.list_for_job(session, job.id)] == [
        "a.txt",
        "big.bin",
        "gone",
    ]
    assert job_artifacts.content(inline) == b"hi"
    assert job_artifacts.content(on_disk) == stored
    with pytest.raises(NotFound):
        job_artifacts.content(gone)
    with pytest.raises(NotFound):
        job_artifacts.get(session, job.id + 1000, inline.id)
    with pytest.raises(NotFound):
        job_artifacts.list_for_job(session, job.id + 1000)
