"""The TMF profile (profiles/tmf.yaml) on helpdesk_mgmt, against a real Odoo of the series over every protocol it
speaks, in a database of its own set up by `setup-odoo --apply` with PROCESS_PROFILE=tmf: its stages (New,
Triage, 1st line, 2nd line, 3rd line, Done, Canceled), triage by stars, a To-Do for a colleague, and the stage
e-mails Odoo sends: entering Done sends helpdesk_mgmt's closing
e-mail to the customer; a cancelled ticket closes without notifying them (notify_customer_on_cancel: false)."""

from __future__ import annotations

import pytest

from tests.real_odoo.conftest import StartBot

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
