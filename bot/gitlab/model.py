"""GitLab's issues as the bot writes and reads them: what it files (NewIssue), what GitLab answers (Issue, read once
from its REST JSON), the severity scale of incidents, and an issue's address read back into its project and iid.

What GitLab's REST API documentation says, which this module follows: an issue's `issue_type` is `issue`, `incident`,
`test_case` or `task`; an incident's `severity` reads back as UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL and is set with
the `/severity` quick action (S1 critical to S4 low), which GitLab runs in a comment posted through the API (the
issue's create and edit calls take no severity); an issue's page is `<project path>/-/issues/<iid>` (an incident's
also `/-/issues/incident/<iid>`, a work item's `/-/work_items/<iid>`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from bot.i18n import N_, tr
from bot.parsing import UsageError
from bot.wording import literal


class IssueKind(StrEnum):
    """What a ticket is logged in GitLab as."""

    INCIDENT = "incident"  # GitLab's incident type, with a severity
    BUG = "bug"  # an issue labelled as a bug (GITLAB_BUG_LABELS)


class Severity(IntEnum):
    """GitLab's incident severity, 1 the most severe."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4

    @property
    def quick_action(self) -> str:
        return f"/severity S{self.value}"

    @property
    def said(self) -> str:
        """`2 (high)`, in the reader's language."""
        return f"{self.value} ({tr(SEVERITY_NAMES[self])})"


SEVERITY_NAMES = {Severity.CRITICAL: N_("critical"), Severity.HIGH: N_("high"), Severity.MEDIUM: N_("medium"),
                  Severity.LOW: N_("low")}


@dataclass(frozen=True)
class NewIssue:
    """An issue to file. `marker` ends the description (invisible in GitLab: an HTML comment) and `look_for` is a word
    of it GitLab's search finds: together they find the issue again when the command that filed it runs again."""

    title: str
    description: str  # Markdown, ending with `marker`
    kind: IssueKind
    labels: tuple[str, ...]
    severity: Severity | None
    marker: str
    look_for: str

    def payload(self) -> dict[str, Any]:
        """The body of GitLab's `POST /projects/:id/issues`."""
        return {"title": self.title, "description": self.description,
                "issue_type": "incident" if self.kind is IssueKind.INCIDENT else "issue",
                **({"labels": ",".join(self.labels)} if self.labels else {})}


class _References(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    full: str = ""


class Issue(BaseModel):
    """An issue as GitLab's REST API answers it (the fields the bot reads; the others are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    iid: int
    project_id: int
    title: str
    web_url: str
    description: str | None = None
    issue_type: str = "issue"
    severity: str = "UNKNOWN"  # incidents only
    state: str = "opened"
    references: _References = _References()

    @property
    def reference(self) -> str:
        """`tmf/platform#42`, GitLab's own way of naming it."""
        return self.references.full or f"#{self.iid}"

    def carries(self, marker: str) -> bool:
        return marker in (self.description or "")

    def has_severity(self, severity: Severity) -> bool:
        return self.severity.upper() == severity.name


@dataclass(frozen=True)
class IssueRef:
    """An issue GitLab has, by its project's path and its number in the project."""

    project: str
    iid: int

    def __str__(self) -> str:
        return f"{self.project}#{self.iid}"


_ISSUE_PAGE = re.compile(r"/(?P<project>[\w.-]+(?:/[\w.-]+)+)/-/(?:issues(?:/incident)?|work_items)/"
                         r"(?P<iid>[1-9][0-9]{0,9})/?")


def issue_ref(address: str, gitlab_url: str) -> IssueRef:
    """The issue at `address` (copied from its page), which must be on the configured GitLab (`gitlab_url`); a
    UsageError saying what is wrong otherwise."""
    cleaned = address.strip().strip("<>")
    parts, home = urlsplit(cleaned), urlsplit(gitlab_url)
    example = f"{gitlab_url}/group/project/-/issues/42"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(tr("`{link}` is not the address of a GitLab issue. Copy it from the issue's page, like "
                            "`{example}`.", link=literal(address), example=example))
    base = home.path.rstrip("/")
    if (parts.hostname, parts.port) != (home.hostname, home.port) or not parts.path.startswith(base + "/"):
        raise UsageError(tr("`{link}` is not on this desk's GitLab ({gitlab}): I only link issues there.",
                            link=literal(address), gitlab=gitlab_url))
    page = _ISSUE_PAGE.fullmatch(parts.path[len(base):])
    if page is None:
        raise UsageError(tr("`{link}` is not the address of a GitLab issue. Copy it from the issue's page, like "
                            "`{example}`.", link=literal(address), example=example))
    return IssueRef(page["project"], int(page["iid"]))
