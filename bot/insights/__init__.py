"""Step 7, trend analysis: post-mortems and trends read from Odoo's own records.

Pure functions over `TicketHistory` (a ticket, its close date and its chatter, as the gateway
reads them in a bounded number of calls): `timeline` turns the chatter into events and
milestones, `service_levels` measures them against the process profile, `findings` reads root
causes and error texts out of the notes, and `postmortem` and `trends` assemble the two reports
(their cards, the trend's charts included, are drawn by `cards.insights`).
"""
