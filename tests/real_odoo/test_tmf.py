"""The TMF profile (profiles/tmf.yaml) on helpdesk_mgmt, against a real Odoo of the series over every protocol it
speaks, in a database of its own set up by `setup-odoo --apply` with PROCESS_PROFILE=tmf: its stages (New,
Triage, 1st line, 2nd line, 3rd line, Done, Canceled), triage by stars, a To-Do for a colleague, and the stage
e-mails Odoo sends: entering Done sends helpdesk_mgmt's closing
e-mail to the customer; a cancelled ticket closes without notifying them (notify_customer_on_cancel: false). An
escalation to TMF's 2nd line moves the ticket into that stage, and an incident filed in GitLab (the tests' GitLab
double: GitLab cannot run here) closes it into "1st line: incident"."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import GitLabSettings
from tests.real_odoo.conftest import StartBot
from tests.support.gitlab_double import TOKEN, GitLabDouble, served

pytestmark = pytest.mark.real_odoo


async def test_tmf_stages_and_stage_emails(start_bot: StartBot, protocol: str, run_tag: str) -> None:
    desk = await start_bot("tmf", protocol)
    odoo = desk.odoo
    customer = f"fleet+{run_tag}-{protocol}@tmf.example"

    def stage(ticket_id: int) -> str:
        return str(odoo.ticket(ticket_id)["stage_id"][1])

    def emails_to_customer(ticket_id: int) -> list[str]:
        """The subjects of the e-mails Odoo queued for the customer about the ticket (no SMTP server: they stay)."""
        mails = odoo.call("mail.mail", "search_read", [["model", "=", "helpdesk.ticket"], ["res_id", "=", ticket_id],
                                                       ["recipient_ids", "in", [odoo.partner_id(customer)]]],
                          fields=["subject"], order="id")
        return [str(mail["subject"]) for mail in mails]

    await desk.say(f"/ticket new Car 12 does not unlock {run_tag} users:2 customer:{customer}")
    tid = odoo.newest_ticket()["id"]
    assert stage(tid) == "New"
    triaged = await desk.say(f"/ticket triage {tid} 2")  # stars: the class; assigned; Triage, with its e-mail
    assert "Triaged: Priority (2 stars)" in triaged and stage(tid) == "Triage", triaged
    assert odoo.ticket(tid)["priority"] == "2"
    await desk.say(f"/ticket todo {tid} {desk.cast.colleague.email} Check the car's logbook in the backend")
    [todo] = odoo.call("mail.activity", "search_read", [["res_model", "=", "helpdesk.ticket"], ["res_id", "=", tid]],
                       fields=["summary", "user_id"])
    assert todo["summary"] == "Check the car's logbook in the backend"
    assert todo["user_id"][0] == odoo.user_id(desk.cast.colleague.email)
    await desk.say(f"/ticket ack {tid} We are on it")
    assert stage(tid) == "1st line"
    await desk.say(f"/ticket hold {tid} Waiting for Invers")
    assert stage(tid) == "3rd line"
    await desk.say(f"/ticket resume {tid}")
    assert stage(tid) == "1st line"
    told = emails_to_customer(tid)
    await desk.say(f"/ticket resolve {tid} The unlock command works again")
    closed = odoo.ticket(tid)
    assert closed["stage_id"][1] == "Done" and closed["closed"] is True
    sent = emails_to_customer(tid)[len(told):]
    assert any("has been closed" in subject for subject in sent), sent  # Odoo's closing e-mail, from the stage

    await desk.say(f"/ticket new Old request about invoices {run_tag} users:1 customer:{customer}")
    other = odoo.newest_ticket()["id"]
    before = emails_to_customer(other)
    await desk.say(f"/ticket cancel {other} Outdated")
    assert stage(other) == "Canceled" and odoo.ticket(other)["closed"] is True
    assert emails_to_customer(other) == before  # closed without notifying the customer


@pytest.fixture
async def gitlab() -> AsyncIterator[tuple[GitLabDouble, GitLabSettings]]:
    double = GitLabDouble()
    async with served(double) as url:
        yield double, GitLabSettings(url, TOKEN, "tmf/platform")


async def test_tmf_escalation_stage_and_the_incident_path(start_bot: StartBot, protocol: str, run_tag: str,
                                                          gitlab: tuple[GitLabDouble, GitLabSettings]) -> None:
    double, settings = gitlab
    desk = await start_bot("tmf", protocol, gitlab=settings)
    odoo = desk.odoo

    await desk.say(f"/ticket new Car 7 beeps all night {run_tag} users:2")
    tid = odoo.newest_ticket()["id"]
    await desk.say(f"/ticket ack {tid} We are on it")
    assert odoo.ticket(tid)["stage_id"][1] == "1st line"
    await desk.teams.say_in_channel("/ticket channel second-line", f"19:second-line-{run_tag}@thread.tacv2",
                                    sender=desk.cast.lead)  # registering a team's channel is a lead's
    told = await desk.say(f"/ticket escalate {tid} second-line Needs a script to reset the box")
    assert "2nd line (TMF team): must acknowledge by" in told, told
    assert odoo.ticket(tid)["stage_id"][1] == "2nd line"  # escalation_teams.second-line.stage

    said = await desk.say(f"/ticket gitlab {tid} incident severity:2")
    assert "Incident tmf/platform#1 filed in GitLab." in said, said
    closed = odoo.ticket(tid)
    assert closed["stage_id"][1] == "1st line: incident" and closed["closed"] is True
    [issue] = double.issues_in("tmf/platform")
    assert f"Car 7 beeps all night {run_tag}" in str(issue["title"])
    assert any(str(issue["web_url"]) in str(message["body"]) for message in odoo.messages(tid))  # in the chatter
