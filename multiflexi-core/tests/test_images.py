"""Logos: an image of an allowed type under the size limit, stored as a data URI."""

import base64

import pytest

from multiflexi.core import audit, companies, images
from multiflexi.core.errors import ValidationError

ACTOR = audit.Actor("tester", source="test")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
SAMPLES = {
    "image/png": PNG,
    "image/jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 20,
    "image/gif": b"GIF89a" + b"\x00" * 20,
    "image/webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8,
    "image/svg+xml": SVG,
}


@pytest.mark.parametrize(("kind", "content"), SAMPLES.items())
def test_each_allowed_type_becomes_a_data_uri_that_may_be_stored(kind, content):
    uri = images.logo_from_file(content)
    assert uri == f"data:{kind};base64,{base64.b64encode(content).decode()}"
    assert images.logo_problem(uri) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"MZ\x90\x00 an executable", "not an image of an allowed type"),
        (b"<html><script>alert(1)</script></html>", "not an image"),
        (PNG + b"\x00" * images.LOGO_MAX_BYTES, "at most 64 KiB"),
    ],
)
def test_a_file_that_is_not_a_small_image_is_refused_on_the_logo_field(content, problem):
    with pytest.raises(ValidationError) as info:
        images.logo_from_file(content)
    assert problem in info.value.for_field("logo")[0]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://example.com/logo.png", "data: URI"),
        ("data:text/html;base64,PGI+", "not an allowed type"),
        ("data:image/png;base64,!!!", "data: URI"),
        ("data:image/png;base64," + base64.b64encode(SVG).decode(), "holds image/svg+xml"),
    ],
)
def test_a_logo_that_is_not_an_allowed_image_is_refused_and_nothing_changes(
    session, value, problem
):
    company = companies.create(session, name="Acme", actor=ACTOR)
    with pytest.raises(ValidationError) as info:
        companies.update(session, company.id, {"logo": value}, actor=ACTOR)
    assert problem in info.value.for_field("logo")[0]
    session.rollback()
    assert companies.get(session, company.id).logo is None
    with pytest.raises(ValidationError):
        companies.create(session, name="Other", logo=value, actor=ACTOR)


def test_a_company_is_created_and_changed_with_a_logo_and_loses_it(session):
    png = images.logo_from_file(PNG)
    company = companies.create(session, name="Acme", logo=png, actor=ACTOR)
    assert companies.get(session, company.id).logo == png
    svg = images.logo_from_file(SVG)
    companies.update(session, company.id, {"logo": svg}, actor=ACTOR)
    assert companies.get(session, company.id).logo == svg
    companies.update(session, company.id, {"logo": None}, actor=ACTOR)
    assert companies.get(session, company.id).logo is None
