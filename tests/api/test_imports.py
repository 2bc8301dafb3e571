"""Web and API imports: validate, report problems, confirm, and see the graph change at once."""

from __future__ import annotations

import re

import pytest

from tests.api.factory import TOKENS, csrf_of, make_client

GOOD_ORGS = (
    "id,name,type,clusters,sectors,region,mandate\n"
    "new-1,Nouvelle Aéro,company,Aérospatiale,aerospace,Montréal,Pièces\n"
    "new-2,Institut Nordique,institution,Aérospatiale,aerospace,Laval,Recherche\n"
).encode("utf-8")
GOOD_RELS = b"source,target,relationship\nnew-1,new-2,partners_with\nnew-1,assoc,member_of\n"
BROKEN = b"id,name,type\nA,Acme,fondation\n,No id,company\n"


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_broken_file_shows_every_problem_and_writes_nothing():
    with make_client() as c:
        r = c.post("/import?lang=en", data={"csrf_token": csrf_of(c)}, files={"files": ("members.csv", BROKEN, "text/csv")})
        assert r.status_code == 422
        assert "2 problem(s) found" in r.text and "fondation" in r.text and "missing id" in r.text
        assert "members.csv" in r.text
        assert c.get("/api/dashboard").json()["organizations"] == 11


def test_good_files_validate_then_load_on_confirm():
    with make_client() as c:
        token = csrf_of(c)
        before = c.get("/api/dashboard").json()["organizations"]  # fills the cache
        r = c.post("/import?lang=en", data={"csrf_token": token},
                   files=[("files", ("orgs.csv", GOOD_ORGS, "text/csv")), ("files", ("rels.csv", GOOD_RELS, "text/csv"))])
        assert r.status_code == 200 and "2 organizations and 2 relationships" in r.text
        assert c.get("/api/dashboard").json()["organizations"] == before  # nothing written yet
        r = c.post("/import/confirm?lang=en", data={"csrf_token": token, "token": _token(r.text)})
        assert r.status_code == 200 and "Import done" in r.text
        assert re.search(r'data-testid="orgs-created">2<', r.text)
        # The cache was cleared: pages show the new graph at once.
        assert c.get("/api/dashboard").json()["organizations"] == before + 2
        assert c.get("/api/organizations/new-1").json()["facts"]["name"] == "Nouvelle Aéro"


def test_an_upload_is_loaded_once():
    with make_client() as c:
        token = csrf_of(c)
        r = c.post("/import", data={"csrf_token": token}, files={"files": ("orgs.csv", GOOD_ORGS, "text/csv")})
        upload = _token(r.text)
        assert c.post("/import/confirm", data={"csrf_token": token, "token": upload}).status_code == 200
        again = c.post("/import/confirm?lang=en", data={"csrf_token": token, "token": upload})
        assert again.status_code == 400 and "expired or was already loaded" in again.text


def test_confirm_with_a_made_up_token_is_refused():
    with make_client() as c:
        r = c.post("/import/confirm", data={"csrf_token": csrf_of(c), "token": "../../etc"})
    assert r.status_code == 400


def test_uploaded_files_live_in_a_private_folder_and_are_removed():
    with make_client() as c:
        area = c.app.state.uploads
        r = c.post("/import", data={"csrf_token": csrf_of(c)}, files={"files": ("../orgs.csv", GOOD_ORGS, "text/csv")})
        assert r.status_code == 400  # refused name: nothing kept
        assert list(area.root.iterdir()) == []
        r = c.post("/import", data={"csrf_token": csrf_of(c)}, files={"files": ("Membres (2024).csv", GOOD_ORGS, "text/csv")})
        [folder] = list(area.root.iterdir())
        assert [p.name for p in folder.iterdir()] == ["Membres_2024.csv"]
        c.post("/import/confirm", data={"csrf_token": csrf_of(c), "token": _token(r.text)})
        assert list(area.root.iterdir()) == []
        root = area.root
    assert not root.exists()  # the app's shutdown removed the folder


def test_api_import_in_two_steps_with_a_bearer_token():
    with make_client(role_tokens=True) as c:
        auth = {"Authorization": f"Bearer {TOKENS['editor']}"}
        r = c.post("/api/import", headers=auth, files=[("files", ("orgs.csv", GOOD_ORGS, "text/csv"))])
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["organizations"] == 2 and report["files"] == ["orgs.csv"]
        r = c.post(f"/api/import/{report['token']}/confirm", headers=auth, json={"replace_source": False})
        assert r.status_code == 200 and r.json()["organizations_created"] == 2
        assert c.get("/api/organizations/new-2", headers=auth).json()["facts"]["region"] == "Laval"


def test_api_import_problems_are_listed_as_json():
    with make_client() as c:
        r = c.post("/api/import", headers={"X-CSRF-Token": csrf_of(c)}, files={"files": ("bad.csv", BROKEN, "text/csv")})
    assert r.status_code == 422
    problems = r.json()["error"]["problems"]
    assert {(p["file"], p["row"], p["column"]) for p in problems} == {("bad.csv", 2, "type"), ("bad.csv", 3, "id")}


def test_too_many_files_are_refused():
    with make_client() as c:
        files = [("files", (f"f{i}.csv", GOOD_ORGS, "text/csv")) for i in range(11)]
        r = c.post("/api/import", headers={"X-CSRF-Token": csrf_of(c)}, files=files)
    assert r.status_code == 400 and "at most 10" in r.json()["error"]["message"]


@pytest.mark.parametrize("name", ["orgs.exe", "orgs"])
def test_unknown_file_kinds_are_refused(name):
    with make_client() as c:
        r = c.post("/api/import", headers={"X-CSRF-Token": csrf_of(c)}, files={"files": (name, GOOD_ORGS, "text/csv")})
    assert r.status_code == 400


def test_import_of_hostile_text_stays_text_everywhere():
    hostile = ('id,name,type,clusters,mandate\n'
               'x1,"<svg onload=alert(1)>",company,Aérospatiale,"{{ config }} <script>alert(2)</script> =1+1"\n').encode()
    with make_client() as c:
        token = csrf_of(c)
        r = c.post("/import", data={"csrf_token": token}, files={"files": ("h.csv", hostile, "text/csv")})
        c.post("/import/confirm", data={"csrf_token": token, "token": _token(r.text)})
        for path in ["/", "/organizations/x1", "/map", "/tables/gaps", "/tables/brokers", "/brief/aerospatiale"]:
            html = c.get(path).text
            assert "<svg onload" not in html and "<script>alert(2)" not in html, path
        assert "&lt;svg onload=alert(1)&gt;" in c.get("/organizations/x1").text
        assert c.get("/api/organizations/x1").json()["facts"]["mandate"].startswith("{{ config }}")
