"""Ids beyond what the database stores: NotFound from every lookup by "id or name"."""

import pytest

from multiflexi.core import apps, companies, credentials, ids
from multiflexi.core.errors import NotFound

HUGE = 10**20  # beyond 64 bits
BEYOND_INTEGER = ids.MAX_ID + 1  # beyond PostgreSQL's and MariaDB's INTEGER


@pytest.mark.parametrize(
    "lookup",
    [companies.get, apps.get, credentials.prototype],
    ids=["company", "application", "credential prototype"],
)
@pytest.mark.parametrize("ref", [HUGE, str(HUGE), BEYOND_INTEGER, str(BEYOND_INTEGER), 0, "0"])
def test_an_id_out_of_range_is_not_found_without_a_query_that_overflows(session, lookup, ref):
    with pytest.raises(NotFound, match=f"{ref} not found"):
        lookup(session, ref)


def test_digits_that_are_not_ascii_are_a_name_not_an_id(session):
    # "²" is a digit to str.isdigit, but int() refuses it
    with pytest.raises(NotFound, match="company ² not found"):
        companies.get(session, "²")


def test_parse_reads_ascii_digits_in_range_only():
    assert ids.parse("0042") == 42
    assert ids.parse(str(ids.MAX_ID)) == ids.MAX_ID
    assert [ids.parse(t) for t in ("", "0", "-1", "1.0", "١٢", str(ids.MAX_ID + 1))] == [None] * 6
    assert ids.parse("0" * 50 + "7") == 7
