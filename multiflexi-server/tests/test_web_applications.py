"""smoke"""
from helpers import signed_in

def test_smoke(world):
    c = signed_in(world, "root")
    for url in ("/applications", f"/applications/{world.ids['application']}", "/applications/import",
                f"/companies/{world.ids['company_a']}/applications", f"/applications/{world.ids['application']}/delete",
                f"/applications/{world.ids['application']}/export",
                f"/companies/{world.ids['company_a']}/applications/{world.ids['application']}/unassign"):
        r = c.get(url)
        print(url, r.status_code, r.headers.get("Content-Disposition"))
        assert r.status_code == 200, r.text[:3000]
    r = c.get("/applications?q=probe", headers={"HX-Request": "true"})
    print(r.text[:3000])
