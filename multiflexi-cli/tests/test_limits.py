"""Values too large for a job's environment: the CLI says what the API says, and stores nothing."""

from __future__ import annotations

from multiflexi.core import companies
from multiflexi.core.limits import MAX_VALUE_BYTES


def test_a_company_variable_too_large_is_refused_with_the_cores_words(cli, session, actor):
    company = companies.create(session, name="Acme", actor=actor)
    too_large = "x" * (MAX_VALUE_BYTES + 1)
    result = cli(
        "company-env", "set", "--company-id", str(company.id), "--name", "BIG", input=too_large
    )
    assert result.exit_code == 1
    assert (
        f"BIG: is {MAX_VALUE_BYTES + 1} bytes; a value may be at most {MAX_VALUE_BYTES} bytes"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert cli.json("company-env", "list", "--company-id", str(company.id)) == []
