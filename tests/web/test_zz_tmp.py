def test_tmp(showcase, api, web):
    r = api.start("t01_office", "form_showcase", {"title": "违建", "township": "t01", "item_code": "SD-001", "reminder_every": 2})
    assert r.status_code == 201, r.text
    c = web("t01_office")
    t = api.tasks("t01_office")[0]
    p = c.get("/tasks/" + t["id"])
    assert p.status_code == 200, p.text
    open("/tmp/smoke/fill.html","w").write(p.text)
    p = c.get("/instances/1")
    assert p.status_code == 200, p.text
