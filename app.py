"""Entry point: `python app.py` (production), `--dev` (no auth), `--demo` (everything embedded), and
`python app.py setup-odoo [--apply]` (check Odoo against the process profile; create what is missing)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from pathlib import Path

from aiohttp import web
from dotenv import load_dotenv

from bot.logs import configure_logging
from bot.odoo.errors import OdooError, OdooUnavailable
from bot.odoo.setup import setup_odoo
from bot.process import ProfileError, load_profile
from bot.server import RUNTIME, CannotStart, create_app, odoo_unreachable
from bot.settings import Mode, Settings, SettingsError, load_odoo_settings, load_settings, process_profile_name

logger = logging.getLogger("ticketbot")

PLAYGROUND_HINT = """\
The bot is listening on http://localhost:{port}/api/messages

Chat with it in Microsoft's Agents Playground (an offline Teams client), in another terminal:
    npx @microsoft/m365agentsplayground -e http://127.0.0.1:{port}/api/messages -c msteams
then open the address it prints and type `/ticket help`.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Teams support-desk bot on Odoo")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--dev", action="store_true", help="authentication off; in-process Redis and "
                       "sandbox Odoo unless REDIS_URL / ODOO_URL are set")
    modes.add_argument("--demo", action="store_true", help="everything embedded: sandbox Odoo seeded with "
                       "the six scenarios, in-process Redis, no Azure")
    parser.add_argument("--worker-only", action="store_true", help="run the reminders (timer worker and Odoo "
                        "poller) without the web server, e.g. as a separate replica")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="[setup-odoo]")
    setup = commands.add_parser(
        "setup-odoo", help="check that Odoo has what the process profile needs (stages, the managers' group, the "
        "bot user's rights) and print what is missing; exit code 1 when something is",
        description="Check the Odoo of ODOO_URL (as ODOO_LOGIN) against PROCESS_PROFILE. It never renames, changes "
        "or deletes anything in Odoo; running it twice is safe.")
    setup.add_argument("--apply", action="store_true", help="create what is missing (stages in the profile's "
                       "order, the class tags, the managers' group with its external id) and say what it did")
    return parser.parse_args(argv)


def setup_command(apply: bool) -> int:
    """`python app.py setup-odoo [--apply]`; 0 when Odoo is ready for the process profile."""
    configure_logging(json_logs=False)
    try:
        odoo = load_odoo_settings(os.environ)
        configure_logging(json_logs=False, secrets=(odoo.api_key,))
        profile = load_profile(process_profile_name(os.environ))
        return asyncio.run(setup_odoo(odoo, profile, apply=apply, out=sys.stdout))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except ProfileError as error:
        print(f"configuration error: PROCESS_PROFILE: {error}", file=sys.stderr)
        return 2
    except OdooUnavailable as error:
        print(f"cannot check Odoo: {odoo_unreachable(error)}", file=sys.stderr)
        return 1
    except OdooError as error:
        print(f"cannot check Odoo: {error}", file=sys.stderr)
        return 1


async def serve(settings: Settings, *, web_server: bool = True) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()  # runs cleanup_ctx: connects Redis and Odoo, so a bad login stops us here
    settle_garbage_collector()
    if web_server:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        if settings.mode is Mode.DEMO:
            print(PLAYGROUND_HINT.format(port=settings.port), flush=True)
        logger.info("listening on %s:%d (%s mode, Odoo at %s)", settings.host, settings.port, settings.mode,
                    app[RUNTIME].odoo_url)
    else:
        logger.info("reminders worker running (%s mode, Odoo at %s)", settings.mode, app[RUNTIME].odoo_url)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


# Young objects are collected every this many allocations (Python's default is 700: a turn allocates several
# thousand, so the collector ran a few times in every turn).
YOUNG_GENERATION = 20_000


def settle_garbage_collector() -> None:
    """Once started: what start-up made (modules, the profile, the catalogues, Odoo's users and stages) lives as long
    as the process, so it is frozen out of the collector's reach, and young objects are collected less often. The
    oldest generation's collections walked all of it: up to 100 ms, in the middle of a turn (bench/turns.py)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, oldest)


def read_dotenv() -> None:
    """The settings in `.env` of the current folder, if there is one, for those the environment does not set
    already (the environment wins). Values are taken as written: a `$` in a secret is no variable."""
    path = Path.cwd() / ".env"
    if path.is_file():
        load_dotenv(path, override=False, interpolate=False)
        logger.info("settings read from %s (a value set in the environment wins over it)", path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = Mode.DEMO if args.demo else Mode.DEV if args.dev else Mode.PRODUCTION
    configure_logging(json_logs=mode is Mode.PRODUCTION)
    read_dotenv()
    if args.command == "setup-odoo":
        return setup_command(args.apply)
    try:
        settings = load_settings(os.environ, mode)
        configure_logging(json_logs=mode is Mode.PRODUCTION, secrets=settings.secrets)
        asyncio.run(serve(settings, web_server=not args.worker_only))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except CannotStart as error:
        for problem in error.problems:
            print(f"cannot start: {problem}", file=sys.stderr)
        return 1
    except OdooError as error:
        print(f"cannot start: Odoo: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
