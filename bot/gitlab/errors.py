"""What can go wrong with GitLab, and how it is said to the person who asked.

The client turns GitLab's answers (its documented status codes: 401 a bad token, 403 no right, 404 an unknown
project or issue, 400 and 422 a refused issue, 429 too many requests with Retry-After) and network failures into one
`GitLabError` whose `problem` says which; `explain` words it. Nothing in Odoo is written before GitLab has answered,
so every one of them leaves Odoo as it was.
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import tr
from bot.wording import literal


class Problem(StrEnum):
    NOT_CONFIGURED = "not configured"  # GITLAB_URL, GITLAB_TOKEN and GITLAB_PROJECT are not set
    TOKEN = "token"  # 401: the token is wrong, expired or revoked
    FORBIDDEN = "forbidden"  # 403: the token's user may not do this there
    NO_PROJECT = "no project"  # 404 on the project
    NO_ISSUE = "no issue"  # 404 on an issue
    INVALID = "invalid"  # 400, 409, 422: GitLab refused what was sent
    BUSY = "busy"  # 429 for longer than the bot waits
    UNAVAILABLE = "unavailable"  # no answer, a timeout, a 5xx, an answer that is not GitLab's


class GitLabError(Exception):
    """GitLab could not do what was asked. `subject`: the project or issue it was about; `detail`: GitLab's own
    words (INVALID); `wait`: the seconds GitLab asked to wait (BUSY)."""

    def __init__(self, problem: Problem, *, subject: str = "", detail: str = "", wait: int = 0) -> None:
        said = subject or detail or (f"retry after {wait} s" if wait else "")
        super().__init__(f"GitLab: {problem}" + (f" ({said})" if said else ""))  # for the log
        self.problem = problem
        self.subject = subject
        self.detail = detail
        self.wait = wait


def explain(error: GitLabError) -> tuple[str, str]:
    """What to tell the person: what happened, and what to do (each a sentence in their language)."""
    unchanged = tr("Nothing was changed in Odoo.")
    subject = literal(error.subject)
    match error.problem:
        case Problem.NOT_CONFIGURED:
            return (tr("GitLab is not configured for this desk, so I did nothing."),
                    tr("An admin sets GITLAB_URL, GITLAB_TOKEN and GITLAB_PROJECT in the bot's settings and restarts "
                       "it (see the installation guide)."))
        case Problem.TOKEN:
            return (tr("GitLab refused the bot's token (GITLAB_TOKEN): it is wrong, expired or revoked."),
                    tr("Ask an admin for a new token with the api scope.") + " " + unchanged)
        case Problem.FORBIDDEN:
            return (tr("GitLab does not let the bot's user do this in {subject}.", subject=subject),
                    tr("The bot's GitLab user must be at least Reporter there.") + " " + unchanged)
        case Problem.NO_PROJECT:
            return (tr("GitLab has no project {subject} (GITLAB_PROJECT), or the bot's token cannot see it.",
                       subject=subject), unchanged)
        case Problem.NO_ISSUE:
            return (tr("GitLab has no issue {subject}, or the bot's token cannot see it.", subject=subject),
                    tr("Check the link.") + " " + unchanged)
        case Problem.INVALID:
            return tr("GitLab did not accept the issue: {detail}", detail=literal(error.detail)), unchanged
        case Problem.BUSY:
            return tr("GitLab is busy; try again in {seconds} s.", seconds=error.wait), unchanged
        case Problem.UNAVAILABLE:
            return tr("GitLab is not answering right now, so nothing was changed in Odoo."), \
                tr("Please try again in a minute.")
