"""A GitLab double for the tests, as odoo_double/ is Odoo's: a small aiohttp app speaking GitLab's REST API (v4) for
what the bot calls, in the shapes GitLab's documentation gives.

- `GET /api/v4/projects/:id` (`:id` a number or the URL-encoded path, `tmf%2Fplatform`)
- `GET /api/v4/projects/:id/issues` with `search` and `in` (title, description or both)
- `POST /api/v4/projects/:id/issues` (`title`, `description`, `issue_type`, `labels`)
- `GET /api/v4/projects/:id/issues/:iid`
- `POST /api/v4/projects/:id/issues/:iid/notes`, running the `/severity` quick action on an incident

and GitLab's documented refusals: 401 without the right `PRIVATE-TOKEN`, 404 for an unknown project or issue
(`404 Project Not Found`, `404 Issue Not Found`), 400 for an unknown issue type, 422 for a title over 255 characters
(`{"message": {"title": ["is too long (maximum is 255 characters)"]}}`), and, when a test asks (`throttle`), 429 with
Retry-After and Rack::Attack's `Retry later` body. It only serves tests: the demo does not need GitLab.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web

TOKEN = "glpat-double-token-0123"
ISSUE_TYPES = ("issue", "incident", "test_case", "task")
SEVERITIES = {"1": "CRITICAL", "2": "HIGH", "3": "MEDIUM", "4": "LOW", "s1": "CRITICAL", "s2": "HIGH",
              "s3": "MEDIUM", "s4": "LOW", "critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW",
              "unknown": "UNKNOWN"}
_SEVERITY_ACTION = re.compile(r"^/severity(?:[ \t]+(\S+))?[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Received:
    """A request the double answered."""

    method: str
    path: str  # decoded, from `projects/...`
    query: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class GitLabDouble:
    token: str = TOKEN
    url: str = ""  # where it is served (`served` sets it): the start of every issue's web_url
    projects: list[dict[str, Any]] = field(default_factory=lambda: [
        {"id": 7, "name": "Platform", "path_with_namespace": "tmf/platform"},
        {"id": 8, "name": "Backend", "path_with_namespace": "tmf/backend"}])
    issues: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _throttled: list[int | str] = field(default_factory=list)  # Retry-After of the next requests answered 429

    def throttle(self, retry_after: int | str, *, times: int = 1) -> None:
        """The next `times` requests are answered 429 with this Retry-After."""
        self._throttled += [retry_after] * times

    def issues_in(self, project: str) -> list[dict[str, Any]]:
        [found] = [p for p in self.projects if p["path_with_namespace"] == project]
        return [issue for issue in self.issues if issue["project_id"] == found["id"]]

    def add_issue(self, project: str, title: str, *, issue_type: str = "issue", labels: tuple[str, ...] = ()
                  ) -> dict[str, Any]:
        """An issue GitLab already has (a known bug), as if someone filed it there."""
        [found] = [p for p in self.projects if p["path_with_namespace"] == project]
        return self._create(found, {"title": title, "issue_type": issue_type, "labels": list(labels)})

    def writes(self) -> list[Received]:
        return [r for r in self.received if r.method != "GET" and r.status < 300]

    # ---- the REST API ------------------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        raw_path = request.raw_path.split("?", 1)[0].removeprefix("/api/v4/")
        segments = [unquote(part) for part in raw_path.split("/")]
        body = await request.json() if request.can_read_body else {}
        status, answer, headers = self._answer(request, segments, body)
        self.received.append(Received(request.method, "/".join(segments), dict(request.query), body, status))
        if status == 429:
            return web.Response(status=429, text="Retry later\n", headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, request: web.Request, segments: list[str], body: dict[str, Any]
                ) -> tuple[int, Any, dict[str, str]]:
        if self._throttled:
            return 429, None, {"Retry-After": str(self._throttled.pop(0))}
        given = request.headers.get("PRIVATE-TOKEN") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if given != self.token:
            return 401, {"message": "401 Unauthorized"}, {}
        match (request.method, segments):
            case ("GET", ["projects", project]):
                found = self._project(project)
                return (200, found, {}) if found else _missing("Project")
            case (method, ["projects", project, "issues", *rest]):
                found = self._project(project)
                if found is None:
                    return _missing("Project")
                return self._issues(found, method, rest, request, body)
        return 404, {"error": "404 Not Found"}, {}

    def _issues(self, project: dict[str, Any], method: str, rest: list[str], request: web.Request,
                body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        match (method, rest):
            case ("GET", []):
                return 200, self._search(project, request.query.get("search", ""),
                                         request.query.get("in", "title,description")), {}
            case ("POST", []):
                return self._create_checked(project, body)
            case ("GET", [iid]):
                issue = self._issue(project, iid)
                return (200, issue, {}) if issue else _missing("Issue")
            case ("POST", [iid, "notes"]):
                issue = self._issue(project, iid)
                return self._note(issue, str(body.get("body", ""))) if issue else _missing("Issue")
        return 404, {"error": "404 Not Found"}, {}

    def _project(self, wanted: str) -> dict[str, Any] | None:
        return next((p for p in self.projects if wanted in (str(p["id"]), p["path_with_namespace"])), None)

    def _issue(self, project: dict[str, Any], iid: str) -> dict[str, Any] | None:
        return next((i for i in self.issues if i["project_id"] == project["id"] and str(i["iid"]) == iid), None)

    def _search(self, project: dict[str, Any], search: str, where: str) -> list[dict[str, Any]]:
        fields = [name.strip() for name in where.split(",")]
        return [issue for issue in reversed(self.issues) if issue["project_id"] == project["id"]
                and any(search.lower() in (issue.get(name) or "").lower() for name in fields)]

    def _create_checked(self, project: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        title = str(body.get("title") or "")
        if not title:
            return 400, {"error": "title is missing"}, {}
        if body.get("issue_type", "issue") not in ISSUE_TYPES:
            return 400, {"error": "issue_type does not have a valid value"}, {}
        if len(title) > 255:
            return 422, {"message": {"title": ["is too long (maximum is 255 characters)"]}}, {}
        return 201, self._create(project, body), {}

    def _create(self, project: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        iid = 1 + max((i["iid"] for i in self.issues if i["project_id"] == project["id"]), default=0)
        labels = body.get("labels") or []
        kind = body.get("issue_type", "issue")
        path = project["path_with_namespace"]
        now = datetime.now(UTC).isoformat()
        issue = {
            "id": 1000 + len(self.issues), "iid": iid, "project_id": project["id"], "title": body["title"],
            "description": body.get("description"), "state": "opened", "created_at": now, "updated_at": now,
            "labels": labels.split(",") if isinstance(labels, str) else list(labels), "issue_type": kind,
            "type": kind.upper(), "severity": "UNKNOWN", "web_url": f"{self.url}/{path}/-/issues/{iid}",
            "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{path}#{iid}"},
            "author": {"id": 1, "username": "ticket-bot", "name": "Ticket Bot"}, "assignees": [],
            "confidential": False, "user_notes_count": 0,
        }
        self.issues.append(issue)
        return issue

    def _note(self, issue: dict[str, Any], text: str) -> tuple[int, Any, dict[str, str]]:
        """A comment; its quick actions run and leave it (only `/severity`, which only an incident takes)."""
        for found in _SEVERITY_ACTION.finditer(text):
            severity = SEVERITIES.get((found[1] or "").lower())
            if severity and issue["issue_type"] == "incident":
                issue["severity"] = severity
        kept = _SEVERITY_ACTION.sub("", text).strip()
        if not kept:  # only quick actions: GitLab answers what they changed
            return 202, {"commands_changes": {}, "summary": ["Commands applied"]}, {}
        note = {"id": 500 + len(self.notes), "body": kept, "noteable_iid": issue["iid"], "noteable_type": "Issue",
                "system": False, "author": {"id": 1, "username": "ticket-bot"}}
        self.notes.append(note)
        issue["user_notes_count"] += 1
        return 201, note, {}


def _missing(what: str) -> tuple[int, Any, dict[str, str]]:
    return 404, {"message": f"404 {what} Not Found"}, {}


@asynccontextmanager
async def served(double: GitLabDouble) -> AsyncIterator[str]:
    """The double on a loopback port of its own; its URL (GITLAB_URL)."""
    app = web.Application()
    app.router.add_route("*", "/api/v4/{tail:.*}", double.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    double.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield double.url
    finally:
        await runner.cleanup()
