"""GitLab's REST API, through python-gitlab: file an issue (found again rather than filed twice), read one.

python-gitlab is synchronous (requests), so each operation runs in a worker thread (`asyncio.to_thread`): the event
loop never waits on GitLab. Each HTTP call has its own timeout and the whole operation one more, so a silent GitLab
holds a turn for a bounded time. Every failure becomes a `GitLabError` (bot.gitlab.errors); the token goes in a
header and never into a message or a log line (bot.logs hides it anyway, GITLAB_TOKEN being a secret).

Rate limits: GitLab answers 429 with Retry-After. python-gitlab, left to itself, sleeps through any Retry-After up to
ten times, and its errors do not carry the header; so the bot reads the 429 itself, in a response hook of the
session, waits once when GitLab asks for a short pause (SHORT_WAIT) and otherwise says how long to wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.v4.objects import Project
from pydantic import ValidationError

from bot.gitlab.errors import GitLabError, Problem
from bot.gitlab.model import Issue, IssueRef, NewIssue, Severity
from bot.numbers import whole_number
from bot.settings import GitLabSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")

CALL_TIMEOUT = 10.0  # seconds one HTTP call to GitLab may take
OPERATION_TIMEOUT = 45.0  # seconds a whole operation may take (its calls, and a short wait after a 429)
SHORT_WAIT = 5  # seconds: a Retry-After this short is waited out once; a longer one is said to the person
UNSAID_WAIT = 60  # seconds to wait when a 429 does not say (GitLab's own limits reset within a minute)
LONGEST_WAIT = 86_400  # seconds: a Retry-After past a day (or not in the digits 0-9: `²`) is read as unsaid
SEVERITY_NOTE = "Severity {severity}, as the support desk assessed it.\n{quick_action}"


@dataclass(frozen=True)
class Filed:
    """The issue a `file` ended with: filed now (`created`), or found, filed by an earlier run of the command."""

    issue: Issue
    created: bool


class GitLab:
    """The configured GitLab (GITLAB_URL, GITLAB_TOKEN, GITLAB_PROJECT)."""

    def __init__(self, settings: GitLabSettings) -> None:
        self.settings = settings

    async def file(self, new: NewIssue, *, look_first: bool) -> Filed:
        """File `new` in the project (an incident gets its severity set after, as GitLab requires). `look_first`: the
        command may have run before, so an issue carrying `new.marker` is looked for and taken instead."""
        return await self._run(lambda calls: calls.file(new, look_first=look_first))

    async def issue(self, ref: IssueRef) -> Issue:
        return await self._run(lambda calls: calls.issue(ref))

    async def _run(self, operation: Callable[[_Calls], T]) -> T:
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                return await asyncio.to_thread(lambda: operation(_Calls(self.settings)))
        except TimeoutError:  # the thread ends by itself within its calls' timeouts
            logger.warning("GitLab did not finish within %d s", OPERATION_TIMEOUT)
            raise GitLabError(Problem.UNAVAILABLE) from None


class _RateLimited(Exception):
    def __init__(self, wait: int) -> None:
        super().__init__(f"GitLab asked to wait {wait} s")
        self.wait = wait


def _on_429(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A response hook: a 429 stops the call with what its Retry-After says, before python-gitlab would sleep on it."""
    if response.status_code == 429:
        said = response.headers.get("Retry-After", "").strip()
        wait = whole_number(said, maximum=LONGEST_WAIT)
        raise _RateLimited(UNSAID_WAIT if wait is None else wait)


class _Calls:
    """One operation's calls, made in its worker thread over a requests session of its own."""

    def __init__(self, settings: GitLabSettings) -> None:
        session = requests.Session()
        session.hooks["response"].append(_on_429)
        self._api = gitlab.Gitlab(settings.url, private_token=settings.token, timeout=CALL_TIMEOUT, session=session)
        self._settings = settings

    def file(self, new: NewIssue, *, look_first: bool) -> Filed:
        name = self._settings.project
        project: Project = self._call(lambda: self._api.projects.get(name), Problem.NO_PROJECT, name)
        found = self._find(project, new) if look_first else None
        issue = found or _read(self._call(lambda: project.issues.create(new.payload()), Problem.NO_PROJECT, name))
        if new.severity is not None and not issue.has_severity(new.severity):
            issue = self._set_severity(project, issue, new.severity)
        return Filed(issue, created=found is None)

    def issue(self, ref: IssueRef) -> Issue:
        project = self._api.projects.get(ref.project, lazy=True)  # lazy: no call, the issue's own 404 says enough
        return _read(self._call(lambda: project.issues.get(ref.iid), Problem.NO_ISSUE, str(ref)))

    def _find(self, project: Project, new: NewIssue) -> Issue | None:
        """The issue an earlier run filed: GitLab's search (title and description) narrows, the marker decides."""
        wanted = {"search": new.look_for, "in": "description"}  # `in` is a Python keyword: passed as a mapping
        found = self._call(lambda: project.issues.list(get_all=False, query_parameters=wanted), Problem.NO_PROJECT,
                           self._settings.project)
        return next((issue for issue in map(_read, found) if issue.carries(new.marker)), None)

    def _set_severity(self, project: Project, issue: Issue, severity: Severity) -> Issue:
        """The severity, by the quick action in a comment; the issue read again to see it took. Failing here leaves
        the issue filed without one (said in the answer), not the command undone."""
        note = SEVERITY_NOTE.format(severity=severity.name.lower(), quick_action=severity.quick_action)
        subject = issue.reference
        try:
            filed = project.issues.get(issue.iid, lazy=True)
            self._call(lambda: filed.notes.create({"body": note}), Problem.NO_ISSUE, subject)
            return _read(self._call(lambda: project.issues.get(issue.iid), Problem.NO_ISSUE, subject))
        except GitLabError as error:
            logger.warning("the severity of GitLab issue %s was not set: %s", subject, error)
            return issue

    def _call(self, request: Callable[[], T], missing: Problem, subject: str, *, retry: bool = True) -> T:
        """`request`, its failures as GitLabErrors (`missing`: what a 404 means); after a short 429, once more."""
        try:
            return request()
        except _RateLimited as busy:
            wait = busy.wait
            if not retry or wait > SHORT_WAIT:
                raise GitLabError(Problem.BUSY, subject=subject, wait=wait) from None
        except gitlab.GitlabError as error:
            raise _refused(error, missing, subject) from None
        except requests.RequestException as error:
            logger.warning("GitLab did not answer: %s", error)
            raise GitLabError(Problem.UNAVAILABLE, subject=subject) from None
        logger.info("GitLab asked to wait %d s; trying again then", wait)
        time.sleep(wait)  # in the operation's worker thread, never on the event loop
        return self._call(request, missing, subject, retry=False)


def _refused(error: gitlab.GitlabError, missing: Problem, subject: str) -> GitLabError:
    code = error.response_code
    if code == 401:
        return GitLabError(Problem.TOKEN, subject=subject)
    if code == 403:
        return GitLabError(Problem.FORBIDDEN, subject=subject)
    if code == 404:
        return GitLabError(missing, subject=subject)
    if code in (400, 409, 422):
        return GitLabError(Problem.INVALID, subject=subject, detail=_said(error.error_message))
    logger.warning("GitLab answered %s", error)
    return GitLabError(Problem.UNAVAILABLE, subject=subject)


def _read(answer: Any) -> Issue:
    """An issue from python-gitlab's object for it, read once into the bot's own type."""
    try:
        return Issue.model_validate(answer.attributes)
    except ValidationError as error:
        logger.warning("GitLab answered an issue the bot cannot read: %s", error)
        raise GitLabError(Problem.UNAVAILABLE) from None


def _said(message: object, most: int = 300) -> str:
    """GitLab's error message in one line: a text, or its field -> problems map (`title: is too long`)."""
    if isinstance(message, dict):
        said = "; ".join(f"{key} {_said(value)}" for key, value in message.items())
    elif isinstance(message, list):
        said = ", ".join(_said(item) for item in message)
    else:
        said = " ".join(str(message).split())
    return said if len(said) <= most else said[:most] + "..."
