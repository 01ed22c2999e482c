"""The JSON API: its OpenAPI document, validation errors, and the jobs endpoints."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from sqlmodel import select

from hookline.api import api
from hookline.models import AuditEvent, Job, JobStatus

from testkit import PASSWORD


@pytest.fixture
def client(app, users):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    return client


def test_openapi_document_is_valid_and_covers_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule.replace("<int:", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (
                f"{method} {path} is missing from the OpenAPI document"
            )


def test_openapi_schemas_are_the_ones_the_code_validates_with(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    create = doc["paths"]["/api/v1/jobs"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    schema = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["priority"]["maximum"] == 1000  # JobIn's own constraint
    assert create["x-permission"] == "jobs.manage"
    ingest = doc["paths"]["/api/v1/episodes/ingest"]["post"]
    assert "application/octet-stream" in ingest["requestBody"]["content"]
    assert {p["name"] for p in ingest["parameters"]} >= {
        "series",
        "episode",
        "filename",
        "hook",
        "tropes",
    }
    assert [op.endpoint for op in api.operations].count("create_job") == 1


def test_enqueue_list_cancel_and_retry_jobs(client, sqlite_db):
    created = client.post(
        "/api/v1/jobs", json={"kind": "noop", "key": "smoke-1", "payload": {"n": 1}}
    )
    assert created.status_code == 201
    job = created.get_json()
    again = client.post("/api/v1/jobs", json={"kind": "noop", "key": "smoke-1"}).get_json()
    assert again["id"] == job["id"]  # same key, same job

    listed = client.get("/api/v1/jobs?status=queued").get_json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    assert client.get(f"/api/v1/jobs?ids={job['id']}").get_json()["jobs"][0]["payload"] == {"n": 1}

    cancelled = client.post(f"/api/v1/jobs/{job['id']}/cancel").get_json()
    assert cancelled["status"] == "cancelled"
    conflict = client.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert conflict.status_code == 409
    assert "only queued or running" in conflict.get_json()["message"]
    retried = client.post(f"/api/v1/jobs/{job['id']}/retry").get_json()
    assert retried["status"] == "queued"
    with sqlite_db.session() as session:
        assert session.get_one(Job, job["id"]).status == JobStatus.QUEUED
        trail = session.exec(
            select(AuditEvent).where(AuditEvent.entity_type == "job").order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.actor, e.before, e.after) for e in trail] == [
        ("job.enqueue", "admin", {}, {"kind": "noop", "key": "smoke-1"}),
        ("job.cancel", "admin", {"status": "queued"}, {"status": "cancelled"}),
        ("job.retry", "admin", {"status": "cancelled"}, {"status": "queued"}),
    ]


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ({"kind": "no.such.kind"}, "Unknown job kind 'no.such.kind'"),
        ({"kind": "noop", "priority": 5000}, "priority"),
        ({"kind": "noop", "run_at": "2026-11-21T19:00:00"}, "needs a time zone"),
        ({"payload": {}}, "kind"),
    ],
)
def test_bad_job_requests_say_what_is_wrong(client, body, phrase):
    response = client.post("/api/v1/jobs", json=body)
    assert response.status_code == 400
    assert phrase in response.get_json()["message"]


def test_non_json_bodies_and_bad_queries_are_refused_clearly(client):
    response = client.post(
        "/api/v1/jobs", data="kind=noop", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "JSON body" in response.get_json()["message"]
    response = client.get("/api/v1/jobs?limit=100000")
    assert response.status_code == 400
    assert response.get_json()["detail"]["problems"][0]["field"] == "limit"
    assert client.get("/api/v1/jobs?ids=1,two").get_json()["message"].startswith("ids must be")


def test_missing_things_are_404_in_json(client):
    for url in ("/api/v1/jobs/999", "/api/v1/series/999", "/api/v1/episodes/999"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_healthz_reports_database_migrations_and_media(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["migrations"].startswith("head")
