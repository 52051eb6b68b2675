"""GitLab, where a ticket's incident or bug is filed (`/ticket gitlab`): its REST API through python-gitlab
(client.py, the only module importing it), what the bot writes and reads there (model.py), and what can go wrong
(errors.py). Knows nothing of Odoo nor Teams: bot.gitlab_issues ties a ticket to its issue."""

from bot.gitlab.client import GitLab
from bot.gitlab.errors import GitLabError, Problem, explain
from bot.gitlab.model import Issue, IssueKind, IssueRef, NewIssue, Severity, issue_ref

__all__ = ["GitLab", "GitLabError", "Issue", "IssueKind", "IssueRef", "NewIssue", "Problem", "Severity", "explain",
           "issue_ref"]
