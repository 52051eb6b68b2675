"""A built-in "sandbox Odoo": an in-memory Odoo 17 speaking XML-RPC, JSON-RPC and JSON-2 over HTTP.

Used by the tests and by the bot's demo mode. See the recorded contract it imitates in
tests/contract/odoo-17.0 (helpdesk_mgmt and project flavours). It imports nothing from the bot: the demo's desk
written into it (bot/demo/seed.py, bot/demo/history.py) is the bot's.
"""

from odoo_double.sandbox import GROUP_KEYS, OdooSandbox
from odoo_double.server import create_sandbox_app

__all__ = ["GROUP_KEYS", "OdooSandbox", "create_sandbox_app"]
