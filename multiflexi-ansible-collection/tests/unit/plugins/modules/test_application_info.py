from __future__ import annotations

from ansible_collections.multiflexi.multiflexi.plugins.modules import application_info

UUID = "97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95"


def _setup(server):
    server.add(
        "/applications",
        uuid=UUID,
        name="Bank statements",
        enabled=True,
        tags=["Bank", "FIO"],
        fields=[{"name": "FIO_TOKEN", "secret": True, "default_value": "***"}],
    )  # id 1
    server.add("/applications", uuid="u2", name="Probe", enabled=False, tags=["probe"])  # id 2
    server.add("/applications", uuid="u3", name="Reports", enabled=True, tags=["bank"])  # id 3


def _ids(result):
    return [a["id"] for a in result["applications"]]


def test_by_id_uuid_name_tag_or_all(run, server):
    _setup(server)
    assert _ids(run(application_info, id=2)) == [2]
    assert _ids(run(application_info, app_id=2)) == [2]  # the original's name
    assert _ids(run(application_info, id=99)) == []
    assert _ids(run(application_info, uuid=UUID)) == [1]
    assert _ids(run(application_info, name="Probe")) == [2]
    assert _ids(run(application_info, tag="BANK")) == [1, 3]
    assert _ids(run(application_info, tag="bank", enabled=True)) == [1, 3]
    assert _ids(run(application_info, enabled=False)) == [2]
    everything = run(application_info, check=True)
    assert _ids(everything) == [1, 2, 3] and everything["changed"] is False
    assert everything["applications"][0]["fields"][0]["default_value"] == "***"
    assert server.writes() == []
