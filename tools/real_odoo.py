#!/usr/bin/env python3
"""Bring a real Odoo 17.0, 18.0 or 19.0 up and down, for the real-Odoo tests and for developers.

    python3 tools/real_odoo.py up [SERIES ...]     # default: 17.0 18.0 19.0
    python3 tools/real_odoo.py down [SERIES ...]
    python3 tools/real_odoo.py env [SERIES ...]    # print the connection file of a running server
    python3 tools/real_odoo.py purge [SERIES ...]  # down, and drop the template databases (venvs stay)

`up` gives each series a server on a free loopback port with two databases: helpdesk (`helpdesk_mgmt`; on 18.0
also OCA's `helpdesk_mgmt_timesheet`, which PyPI has for 18.0 only) and projects (`project`, `hr_timesheet`, plus a
"Support" project), an `admin` API key valid in both, and the stages the process profiles need, applied by
`python app.py setup-odoo --apply` (mindx on helpdesk, odoo-ps on projects).
It writes what a client needs (URL, databases, login, API key, series, port, pid) to `.odoo/<S>/env` and prints it.

Everything slow happens once and is cached (ODOO_CACHE, default ~/.cache/ticketbot-odoo, shared by checkouts):
the extracted source, a venv per series keyed by its requirements.txt, and per series two template databases
(modules installed, API key, support project) that `up` copies with `createdb -T`. A server that answers is reused;
`down` stops it and drops its databases (the templates stay).

Sources: ../shared/odoo/odoo-<S>.tar.xz beside the checkout (ODOO_TARBALLS to change the folder), or ODOO_SRC=<an
Odoo checkout> (one series: the one its odoo/release.py says). Pitfalls met (see ../shared/odoo/README.md) are
handled below where they matter; look for "pitfall".

Standard library only: it runs with Debian's python3 before any venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ALL_SERIES = ("17.0", "18.0", "19.0")
STATE = ROOT / ".odoo"
CACHE = Path(os.environ.get("ODOO_CACHE") or Path.home() / ".cache" / "ticketbot-odoo")
TARBALLS = Path(os.environ.get("ODOO_TARBALLS") or ROOT.parent / "shared" / "odoo")
PYTHON = os.environ.get("ODOO_PYTHON") or ("/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable)
BOT_PYTHON = os.environ.get("BOT_PYTHON") or str(ROOT / ".venv" / "bin" / "python")

# OCA helpdesk_mgmt from PyPI, pinned to the versions checked in ../shared/odoo/README.md.
HELPDESK_MGMT = {"17.0": "17.0.1.11.0.3", "18.0": "18.0.1.19.5", "19.0": "19.0.1.3.2"}
# OCA helpdesk_mgmt_timesheet (timesheets on helpdesk tickets) and the OCA modules it depends on, pinned: PyPI has it
# for 18.0 only, so only 18.0's helpdesk database has it (17.0 and 19.0 show the bot without it). Its other
# dependencies, project and hr_timesheet, are in the tarball.
HELPDESK_TIMESHEET = {"18.0": {"odoo-addon-helpdesk-mgmt-timesheet": "18.0.1.2.1.1",
                               "odoo-addon-helpdesk-mgmt-project": "18.0.1.3.0.9",
                               "odoo-addon-project-timesheet-time-control": "18.0.1.0.7.3"}}
# Debian packages: the build dependencies of the pinned sdists (psycopg2, python-ldap, ...) and the database.
APT_PACKAGES = ("python3-venv", "python3-dev", "build-essential", "libpq-dev", "libldap2-dev", "libsasl2-dev",
                "libxml2-dev", "libxslt1-dev", "libjpeg-dev", "zlib1g-dev", "postgresql", "postgresql-client")
DB_USER = DB_PASSWORD = "odoo"
LOGIN = "admin"
SUPPORT_PROJECT = "Support"
SUPPORT_FIRST_STAGE = "Requirements"  # the odoo-ps profile's new stage (profiles/odoo-ps.yaml)
MODULES = {"helpdesk": "helpdesk_mgmt", "projects": "project,hr_timesheet"}  # per template database
# The checkout's databases: kind -> (the template it is copied from, setup-odoo's PROCESS_PROFILE on it). TMF has a
# database of its own: its stages (1st line, 3rd line, Canceled...) beside MindX's would change what each finds.
DATABASES = {"helpdesk": ("helpdesk", "mindx"), "projects": ("projects", "odoo-ps"), "tmf": ("helpdesk", "tmf")}
# The bot's own Odoo user, as docs/install.md says to make it: not an administrator, the helpdesk's (or Project's)
# manager group, Administration: Access Rights and Extra Rights: Contact Creation (which a user made in Odoo's form
# has by default; one made over RPC with its groups named has only those); an API key of its own (the same in every
# database). Where helpdesk_mgmt_timesheet is installed, also Timesheets: User: all timesheets (the bot logs time for
# each agent's employee; Project: Administrator implies it on a projects database).
BOT_LOGIN = "ticketbot"
BOT_GROUPS = {"helpdesk_mgmt": ("helpdesk_mgmt.group_helpdesk_manager", "base.group_erp_manager",
                                "base.group_partner_manager"),
              "project": ("project.group_project_manager", "base.group_erp_manager", "base.group_partner_manager"),
              "helpdesk_mgmt_timesheet": ("hr_timesheet.group_hr_timesheet_approver",)}
# A plain agent: what an Odoo administrator gives a support agent, nothing more (for the tests of the bot logged in
# with too few rights)
AGENT_LOGIN = "plainagent"
AGENT_GROUPS = {"helpdesk_mgmt": ("helpdesk_mgmt.group_helpdesk_user",), "project": ("project.group_project_user",)}


def log(message: str) -> None:
    print(f"[real-odoo {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, env: dict[str, str] | None = None, input: str | None = None, check: bool = True,
        quiet: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, env={**os.environ, **(env or {})}, input=input, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT if not quiet else subprocess.PIPE)
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout or "")
        sys.stderr.write(result.stderr or "")
        raise SystemExit(f"real-odoo: failed ({result.returncode}): {' '.join(cmd)[:300]}")
    return result


@contextlib.contextmanager
def locked(path: Path):
    """One process at a time builds a venv or a template (other checkouts share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def as_root(cmd: list[str]) -> list[str]:
    return cmd if os.geteuid() == 0 else ["sudo", *cmd]


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else ["sudo", "-u", "postgres", *cmd]


# ---- the machine: Debian packages and PostgreSQL -----------------------------------------------------------------

def apt_install(packages: tuple[str, ...]) -> None:
    shown = run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *packages], check=False, quiet=True).stdout
    installed = {line.split()[0] for line in shown.splitlines() if line.endswith(" installed")}
    missing = [p for p in packages if p not in installed]
    if not missing:
        return
    log(f"apt-get install {' '.join(missing)}")
    run(as_root(["apt-get", "update", "-qq"]))
    run(as_root(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", *missing]))


@dataclass(frozen=True)
class Postgres:
    port: int

    def env(self) -> dict[str, str]:
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": DB_USER, "PGPASSWORD": DB_PASSWORD}

    def sql(self, query: str, db: str = "postgres") -> str:
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-tAc", query]
        return run(psql, env=self.env()).stdout.strip()

    def exists(self, db: str) -> bool:
        return self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"

    def drop(self, *dbs: str) -> None:
        for db in dbs:
            run(["dropdb", "--if-exists", "--force", db], env=self.env())

    def copy(self, template: str, db: str) -> None:
        run(["createdb", "-T", template, db], env=self.env())


def postgres() -> Postgres:
    """Debian's PostgreSQL cluster, installed and started if it is not (CI has no systemd: pg_ctlcluster), with a
    role `odoo` (Odoo refuses to run as `postgres`)."""
    if not shutil.which("pg_lsclusters") or not shutil.which("createdb"):
        apt_install(("postgresql", "postgresql-client"))
    clusters = [line.split() for line in run(["pg_lsclusters", "-h"]).stdout.splitlines() if line.strip()]
    if not clusters:
        version = sorted(p.name for p in Path("/usr/lib/postgresql").iterdir())[-1]
        log(f"creating the PostgreSQL {version} cluster 'main'")
        run(as_root(["pg_createcluster", version, "main"]))
        clusters = [line.split() for line in run(["pg_lsclusters", "-h"]).stdout.splitlines() if line.strip()]
    version, name, port, status = clusters[0][:4]
    if status != "online":
        log(f"starting PostgreSQL {version}/{name} (pg_ctlcluster)")
        run(as_root(["pg_ctlcluster", version, name, "start"]))
    role = run(as_postgres(["psql", "-p", port, "-tAc", f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_USER}'"])).stdout
    if role.strip() != "1":
        log(f"creating the PostgreSQL role {DB_USER}")
        run(as_postgres(["psql", "-p", port, "-qc",
                         f"CREATE ROLE {DB_USER} WITH LOGIN SUPERUSER CREATEDB PASSWORD '{DB_PASSWORD}'"]))
    return Postgres(int(port))


# ---- the source and the venv --------------------------------------------------------------------------------------

def sha(data: bytes, n: int = 12) -> str:
    return hashlib.sha256(data).hexdigest()[:n]


@dataclass(frozen=True)
class Source:
    series: str
    tree: Path  # holds odoo-bin, odoo/, requirements.txt
    ident: str  # changes when the tree does (part of the template key)

    @property
    def addons_paths(self) -> list[Path]:
        # pitfall: 17.0/18.0 tarballs are packaged (every addon under odoo/addons); 19.0 is a git layout (base under
        # odoo/addons, the rest under addons/). Told from the tree, so any checkout of any series works.
        paths = [self.tree / "odoo" / "addons"]
        if (self.tree / "addons" / "web" / "__manifest__.py").exists():
            paths.append(self.tree / "addons")
        return paths


def series_of(tree: Path) -> str:
    text = (tree / "odoo" / "release.py").read_text()
    match = re.search(r"^version_info\s*=\s*\(\s*(?:'saas~)?(\d+)", text, re.M)
    if not match:
        raise SystemExit(f"real-odoo: cannot read the series from {tree}/odoo/release.py")
    return f"{match.group(1)}.0"


def source(series: str) -> Source:
    if os.environ.get("ODOO_SRC"):
        tree = Path(os.environ["ODOO_SRC"]).resolve()
        if series_of(tree) != series:
            raise SystemExit(f"real-odoo: ODOO_SRC={tree} is Odoo {series_of(tree)}, not {series}")
        head = run(["git", "-C", str(tree), "rev-parse", "HEAD"], check=False, quiet=True).stdout.strip()
        return Source(series, tree, sha(f"{tree}:{head or (tree / 'odoo/release.py').stat().st_mtime}".encode(), 8))
    tarball = TARBALLS / f"odoo-{series}.tar.xz"
    if not tarball.exists():
        raise SystemExit(f"real-odoo: no {tarball} (set ODOO_TARBALLS to its folder, or ODOO_SRC to a checkout)")
    ident = sha(tarball.read_bytes(), 8)
    tree = CACHE / f"src-{series}-{ident}" / f"odoo-{series}"
    if not (tree.parent / ".complete").exists():
        shutil.rmtree(tree.parent, ignore_errors=True)
        tree.parent.mkdir(parents=True)
        log(f"extracting {tarball.name}")
        run(["tar", "-xJf", str(tarball), "-C", str(tree.parent)])
        (tree.parent / ".complete").touch()
    return Source(series, tree, ident)


def oca_addons(series: str) -> list[str]:
    """The OCA addons pip installs for the series, pinned."""
    pins = {"odoo-addon-helpdesk-mgmt": HELPDESK_MGMT[series], **HELPDESK_TIMESHEET.get(series, {})}
    return [f"{name}=={version}" for name, version in pins.items()]


def modules(series: str) -> dict[str, str]:
    """What `-i` installs in each template database of the series."""
    if series in HELPDESK_TIMESHEET:
        return {**MODULES, "helpdesk": f"{MODULES['helpdesk']},helpdesk_mgmt_timesheet"}
    return MODULES


def venv(src: Source) -> Path:
    """A venv per series, keyed by requirements.txt (and the OCA addons' pins); pip's own cache is shared, so the
    wheels built for one series serve the others."""
    key = sha((src.tree / "requirements.txt").read_bytes() + HELPDESK_MGMT[src.series].encode() + PYTHON.encode()
              + "".join(oca_addons(src.series)[1:]).encode())  # 17.0, 19.0: the key they had before
    path = CACHE / f"venv-{src.series}-{key}"
    if (path / ".complete").exists():
        return path
    apt_install(APT_PACKAGES)
    started = time.monotonic()
    log(f"building the venv for {src.series} ({path})")
    shutil.rmtree(path, ignore_errors=True)
    run([PYTHON, "-m", "venv", str(path)])
    pip = [str(path / "bin" / "python"), "-m", "pip", "-q", "--disable-pip-version-check", "--no-input"]
    # pitfall: Odoo 17 and pinned libraries import pkg_resources, gone in setuptools 81, also inside pip's isolated
    # build environments (cbor2's setup.py): setuptools<81 in the venv and as a build constraint (pip >= 25.3
    # reads PIP_BUILD_CONSTRAINT; older pips applied PIP_CONSTRAINT to build environments too).
    constraints = CACHE / "build-constraints.txt"
    constraints.write_text("setuptools<81\n")
    build_env = {"PIP_BUILD_CONSTRAINT": str(constraints), "PIP_CONSTRAINT": str(constraints)}
    run([*pip, "install", "--upgrade", "pip", "wheel", "setuptools<81"], env=build_env)
    run([*pip, "install", "-r", str(src.tree / "requirements.txt")], env=build_env)
    # pitfall: the OCA addons require the `odoo` distribution, which is not pip-installed: --no-deps (their OCA
    # dependencies are pinned in oca_addons), and the venv's site-packages/odoo/addons goes last in addons_path.
    run([*pip, "install", "--no-deps", *oca_addons(src.series)])
    (path / ".complete").touch()
    log(f"venv for {src.series} built in {time.monotonic() - started:.0f}s")
    return path


def site_addons(env_path: Path) -> Path:
    purelib = run([str(env_path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(purelib.stdout.strip()) / "odoo" / "addons"


# ---- Odoo's configuration and processes -------------------------------------------------------------------------

def short(series: str) -> str:
    return series.split(".")[0]


def odoo_conf(src: Source, env_path: Path, pg: Postgres, dbs: list[str], data_dir: Path, *, port: int = 0,
              logfile: Path | None = None) -> str:
    lines = {
        "admin_passwd": "admin",
        "db_host": "127.0.0.1", "db_port": pg.port, "db_user": DB_USER, "db_password": DB_PASSWORD,
        # pitfall: the cluster holds other series' and other checkouts' databases: this server sees only its own
        # (without db_name, the cron thread visits every database; 19 logs "Skipping database" for the others).
        "db_name": ",".join(dbs), "dbfilter": "^({})$".format("|".join(dbs)), "list_db": "False",
        "addons_path": ",".join(str(p) for p in [*src.addons_paths, site_addons(env_path)]),
        "data_dir": data_dir, "http_interface": "127.0.0.1", "http_port": port or 8069,
        "workers": 0, "max_cron_threads": 1,
    }
    # pitfall: demo data is off with `without_demo = all` up to 18; 19 replaced it with `with_demo = False`
    # (it still reads the old line, with a warning).
    if int(short(src.series)) >= 19:
        lines["with_demo"] = "False"
        # pitfall: 19 logs a deprecation WARNING on every XML-RPC and JSON-RPC call.
        lines["log_handler"] = "odoo.addons.rpc.controllers.xmlrpc:ERROR,odoo.addons.rpc.controllers.jsonrpc:ERROR"
    else:
        lines["without_demo"] = "all"
    if logfile:
        lines["logfile"] = logfile
    return "[options]\n" + "".join(f"{k} = {v}\n" for k, v in lines.items())


def odoo_bin(src: Source, env_path: Path) -> list[str]:
    return [str(env_path / "bin" / "python"), str(src.tree / "odoo-bin")]


def shell(src: Source, env_path: Path, conf: Path, db: str, code: str) -> str:
    """Run Python in `odoo-bin shell` on `db`; its stdout."""
    return run([*odoo_bin(src, env_path), "shell", "-c", str(conf), "-d", db, "--no-http"], input=code,
               quiet=True).stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str, series: str) -> bool:
    try:
        version = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").version()
    except (OSError, xmlrpc.client.Error):
        return False
    return str(version.get("server_version", "")).startswith(short(series))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(pid: int) -> None:
    """SIGTERM (a graceful shutdown takes a second or two), SIGKILL after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(200):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# ---- templates ----------------------------------------------------------------------------------------------------

def api_key_code(series: str) -> str:
    # pitfall: 17 has _generate(scope, name); 18 and 19 _generate(scope, name, expiration_date), where None (a
    # persistent key) is allowed for system users such as admin.
    args = '(None, "ci")' if series == "17.0" else '(None, "ci", None)'
    return (f'key = env["res.users.apikeys"].with_user(env.ref("base.user_admin"))._generate{args}\n'
            'env.cr.commit()\nprint("APIKEY=" + key)\n')


PROJECT_CODE = f"""\
if not env["project.project"].search_count([("name", "=", {SUPPORT_PROJECT!r})]):  # hr_timesheet made "Internal"
    env["project.project"].create({{"name": {SUPPORT_PROJECT!r}, "allow_timesheets": True}})
env.cr.commit()
print("PROJECT=ok")
"""


# What a template holds (modules, the API key in both databases, the support project): part of the templates' name,
# so that a cache built by an earlier recipe is never taken for this one's. Bump it when template() changes.
TEMPLATE_RECIPE = 2


@dataclass(frozen=True)
class Template:
    dbs: dict[str, str]  # kind (helpdesk, projects) -> template database
    api_key: str
    data_dir: Path  # its filestore: data_dir/filestore/<db>


def template(src: Source, env_path: Path, pg: Postgres, timings: dict[str, float]) -> Template:
    """The two template databases of a series, built once: modules installed, an admin API key (the same in both)
    and the support project."""
    # The cache's own path is part of it: two caches on one machine share the PostgreSQL cluster (an ODOO_CACHE
    # run had rebuilt the templates of ~/.cache's, whose API key then no longer opened them: 'Access Denied').
    installed = modules(src.series)
    recipe = f"{TEMPLATE_RECIPE}:{src.ident}:{env_path.name}:{HELPDESK_MGMT[src.series]}:{SUPPORT_PROJECT}:{CACHE}"
    if installed != MODULES:  # the modules too (left out where they are the default: those templates keep their key)
        recipe += ":" + json.dumps(installed, sort_keys=True)
    key = sha(recipe.encode(), 8)
    dbs = {kind: f"tmpl_{kind}_{short(src.series)}_{key}" for kind in installed}
    data_dir = CACHE / "data"
    meta = CACHE / f"{dbs['helpdesk']}.json"
    if meta.exists() and all(pg.exists(db) for db in dbs.values()):
        api_key = json.loads(meta.read_text())["api_key"]
        if all(_key_index(pg, db) == api_key[:8] for db in dbs.values()):
            return Template(dbs, api_key, data_dir)
        log(f"the {src.series} templates' API key is not the one {meta.name} holds: building them again")
    started = time.monotonic()
    log(f"building the {src.series} template databases {', '.join(dbs.values())}")
    pg.drop(*dbs.values())
    for db in dbs.values():
        shutil.rmtree(data_dir / "filestore" / db, ignore_errors=True)
    conf = CACHE / f"odoo-{src.series}-template.conf"
    conf.write_text(odoo_conf(src, env_path, pg, list(dbs.values()), data_dir))

    def install(kind: str) -> float:
        t0 = time.monotonic()
        run([*odoo_bin(src, env_path), "-c", str(conf), "-d", dbs[kind], "-i", installed[kind],
             "--stop-after-init", "--no-http", "--log-level=warn"])
        return time.monotonic() - t0

    jobs = int(os.environ.get("ODOO_JOBS", "1"))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for kind, seconds in zip(installed, pool.map(install, installed), strict=True):
            timings[f"install {kind}"] = round(seconds, 1)
            log(f"{src.series}: {dbs[kind]} (-i {installed[kind]}) in {seconds:.0f}s")
    t0 = time.monotonic()
    out = shell(src, env_path, conf, dbs["helpdesk"], api_key_code(src.series))
    api_key = re.findall(r"^APIKEY=(\S+)$", out, re.M)[-1]
    if "PROJECT=ok" not in shell(src, env_path, conf, dbs["projects"], PROJECT_CODE):
        raise SystemExit("real-odoo: could not create the support project")
    # The same key in the projects database: the row (name, scope, index, hashed key) copied to admin there.
    name, scope, index, hashed = pg.sql("SELECT name, coalesce(scope, ''), index, key FROM res_users_apikeys "
                                        "ORDER BY id DESC LIMIT 1", dbs["helpdesk"]).split("|")
    pg.sql("INSERT INTO res_users_apikeys (name, user_id, scope, index, key) SELECT "
           f"'{name}', id, {f'{scope!r}' if scope else 'NULL'}, '{index}', '{hashed}' FROM res_users "
           f"WHERE login = '{LOGIN}'", dbs["projects"])
    timings["api key + project"] = round(time.monotonic() - t0, 1)
    meta.write_text(json.dumps({"api_key": api_key, "dbs": dbs}))
    meta.chmod(0o600)
    log(f"{src.series} templates built in {time.monotonic() - started:.0f}s")
    return Template(dbs, api_key, data_dir)


def _key_index(pg: Postgres, db: str) -> str:
    """The index (first 8 characters) of the template's admin API key in `db`, as Odoo stores it."""
    return pg.sql("SELECT index FROM res_users_apikeys WHERE name = 'ci' ORDER BY id DESC LIMIT 1", db)


def copy_filestore(source_dir: Path, target_dir: Path) -> None:
    """The filestore goes with the database (createdb -T copies only the database): hard links where possible
    (Odoo never rewrites a stored file), copies otherwise."""
    shutil.rmtree(target_dir, ignore_errors=True)
    if not source_dir.exists():
        return

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source_dir, target_dir, copy_function=link_or_copy)


# ---- up and down --------------------------------------------------------------------------------------------------

def state_dir(series: str) -> Path:
    return STATE / series


def read_env(series: str) -> dict[str, str]:
    path = state_dir(series) / "env"
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def db_names(series: str) -> dict[str, str]:
    # The cluster is shared by every checkout on the machine: the databases carry a tag of this checkout.
    tag = os.environ.get("ODOO_DB_TAG") or sha(str(ROOT).encode(), 6)
    return {kind: f"bot_{kind}_{short(series)}_{tag}" for kind in DATABASES}


def setup_odoo(series: str, url: str, db: str, api_key: str, profile: str) -> str:
    env = {"ODOO_URL": url, "ODOO_DB": db, "ODOO_LOGIN": LOGIN, "ODOO_API_KEY": api_key, "ODOO_PROTOCOL": "xmlrpc",
           "ODOO_PROFILE": "auto", "PROCESS_PROFILE": profile}
    result = run([BOT_PYTHON, "app.py", "setup-odoo", "--apply"], env=env, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout)
        raise SystemExit(f"real-odoo: {series}: `setup-odoo --apply` ({profile} on {db}) exited {result.returncode}")
    return result.stdout


def up(series: str, pg: Postgres) -> dict[str, str]:
    here = state_dir(series)
    here.mkdir(parents=True, exist_ok=True)
    with locked(here / "lock"):
        started = time.monotonic()
        src = source(series)
        known = read_env(series)
        if (known and alive(int(known["ODOO_PID"])) and known.get("ODOO_SOURCE") == str(src.tree)
                and "ODOO_PG_PORT" in known and answers(known["ODOO_URL"], series)):
            log(f"{series}: reusing the server at {known['ODOO_URL']} (pid {known['ODOO_PID']})")
            return known
        if known and alive(int(known["ODOO_PID"])):
            log(f"{series}: stopping pid {known['ODOO_PID']} (it does not answer, or runs another source)")
            stop(int(known["ODOO_PID"]))
        timings: dict[str, float] = {}
        with locked(CACHE / f"{series}.lock"):
            t0 = time.monotonic()
            env_path = venv(src)
            timings["venv"] = round(time.monotonic() - t0, 1)
            tmpl = template(src, env_path, pg, timings)
            t0 = time.monotonic()
            dbs = db_names(series)
            pg.drop(*dbs.values())
            for kind, db in dbs.items():
                source_db = tmpl.dbs[DATABASES[kind][0]]
                pg.copy(source_db, db)
                copy_filestore(tmpl.data_dir / "filestore" / source_db, here / "data" / "filestore" / db)
            timings["copy templates"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        port = free_port()
        conf = here / "odoo.conf"
        if (here / "odoo.log").exists():  # Odoo appends: keep the previous server's log aside
            (here / "odoo.log").replace(here / "odoo.log.1")
        conf.write_text(odoo_conf(src, env_path, pg, list(dbs.values()), here / "data", port=port,
                                  logfile=here / "odoo.log"))
        process = subprocess.Popen([*odoo_bin(src, env_path), "-c", str(conf)], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=open(here / "odoo.stderr", "w"),
                                   start_new_session=True)
        try:  # a server that cannot be made ready is stopped, not left behind (a next `up` starts another)
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while not answers(url, series):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"real-odoo: {series}: the server did not start; see {here / 'odoo.log'}")
                time.sleep(0.3)
            timings["server start"] = round(time.monotonic() - t0, 1)
            t0 = time.monotonic()
            support_project(url, dbs["projects"], tmpl.api_key)
            with ThreadPoolExecutor(max_workers=2) as pool:
                outputs = list(pool.map(
                    lambda kind: setup_odoo(series, url, dbs[kind], tmpl.api_key, DATABASES[kind][1]), dbs))
            (here / "setup-odoo.txt").write_text("\n".join(outputs))
            timings["setup-odoo --apply"] = round(time.monotonic() - t0, 1)
            t0 = time.monotonic()
            bot_key = api_user(series, url, list(dbs.values()), tmpl.api_key, env_path, pg,
                               login=BOT_LOGIN, name="Support bot", groups=BOT_GROUPS)
            agent_key = api_user(series, url, list(dbs.values()), tmpl.api_key, env_path, pg,
                                 login=AGENT_LOGIN, name="Plain agent", groups=AGENT_GROUPS)
            timings["users"] = round(time.monotonic() - t0, 1)
        except BaseException:
            stop(process.pid)
            log(f"{series}: the server's last words ({here / 'odoo.log'}):\n{_tail(here / 'odoo.log', 30)}")
            raise
        timings["total"] = round(time.monotonic() - started, 1)
        values = {
            "ODOO_SERIES": series, "ODOO_URL": url, "ODOO_PORT": str(port), "ODOO_PID": str(process.pid),
            "ODOO_LOGIN": LOGIN, "ODOO_API_KEY": tmpl.api_key,
            "ODOO_HELPDESK_DB": dbs["helpdesk"], "ODOO_PROJECTS_DB": dbs["projects"], "ODOO_TMF_DB": dbs["tmf"],
            "ODOO_BOT_LOGIN": BOT_LOGIN, "ODOO_BOT_API_KEY": bot_key,
            "ODOO_AGENT_LOGIN": AGENT_LOGIN, "ODOO_AGENT_API_KEY": agent_key,
            # the tests take a database away from under Odoo (ALTER DATABASE ... ALLOW_CONNECTIONS)
            "ODOO_PG_HOST": "127.0.0.1", "ODOO_PG_PORT": str(pg.port), "ODOO_PG_USER": DB_USER,
            "ODOO_PG_PASSWORD": DB_PASSWORD,
            "ODOO_LOG": str(here / "odoo.log"), "ODOO_CONF": str(conf), "ODOO_SOURCE": str(src.tree),
        }
        write_env(series, values, timings)
        return values


def _tail(path: Path, lines: int) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def support_project(url: str, db: str, admin_key: str) -> None:
    """The support project, with the odoo-ps profile's first stage in it, as an administrator makes it before
    `setup-odoo --apply` (which creates the other stages in the project of that one).

    pitfall: hr_timesheet creates a project "Internal": with two projects, setup-odoo cannot tell which is the support
    one and asks for a stage of the profile in it (templates built before this was found have no Support project)."""
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model: str, method: str, *args: object, **kwargs: object) -> Any:
        return models.execute_kw(db, 2, admin_key, model, method, list(args), kwargs)

    found = call("project.project", "search", [["name", "=", SUPPORT_PROJECT]])
    project = found[0] if found else call("project.project", "create",
                                          {"name": SUPPORT_PROJECT, "allow_timesheets": True})
    stage = call("project.task.type", "search", [["name", "=", SUPPORT_FIRST_STAGE], ["user_id", "=", False]])
    if stage:
        call("project.task.type", "write", stage, {"project_ids": [(4, project)]})
    else:
        call("project.task.type", "create", {"name": SUPPORT_FIRST_STAGE, "sequence": 1, "project_ids": [(4, project)]})


# pitfall: a user's API key can only be made by Odoo itself (`_generate` is private, and the wizard over RPC wants an
# identity check): the key is made here as Odoo makes it (40 hex digits, indexed by the first 8, hashed with
# passlib's pbkdf2_sha512 at 6000 rounds) by the Odoo venv's passlib, and inserted like the template's admin key.
KEY_CODE = """\
import binascii, os
from passlib.context import CryptContext
key = binascii.hexlify(os.urandom(20)).decode()
print(key, CryptContext(["pbkdf2_sha512"], pbkdf2_sha512__rounds=6000).hash(key))
"""


def api_user(series: str, url: str, dbs: list[str], admin_key: str, env_path: Path, pg: Postgres, *, login: str,
             name: str, groups: dict[str, tuple[str, ...]]) -> str:
    """An internal user in each database (found again if it is there) with the groups of the installed module, and
    a new API key valid in all: the key."""
    key, hashed = run([str(env_path / "bin" / "python"), "-c", KEY_CODE]).stdout.split()
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
    for db in dbs:
        def call(model: str, method: str, *args: object, db: str = db, **kwargs: object) -> object:
            return models.execute_kw(db, 2, admin_key, model, method, list(args), kwargs)

        installed = {m["name"] for m in call("ir.module.module", "search_read",  # type: ignore[union-attr]
                                             [["name", "in", list(groups)], ["state", "=", "installed"]],
                                             fields=["name"])}
        xmlids = ("base.group_user", *groups["helpdesk_mgmt" if "helpdesk_mgmt" in installed else "project"],
                  *(groups.get("helpdesk_mgmt_timesheet", ()) if "helpdesk_mgmt_timesheet" in installed else ()))
        group_ids = [call("ir.model.data", "check_object_reference", *xmlid.split("."))[1] for xmlid in xmlids]
        field = "group_ids" if "group_ids" in call("res.users", "fields_get", ["group_ids"]) else "groups_id"
        found = call("res.users", "search", [["login", "=", login]])
        uid = found[0] if found else call("res.users", "create", {  # type: ignore[index]
            "name": name, "login": login, "email": f"{login}@example.test"})
        call("res.users", "write", [uid], {field: [(6, 0, group_ids)]})
        # 18 and 19 want an expiry on a non-system user's key
        column, expiry = (", expiration_date", ", (now() at time zone 'utc') + interval '30 days'") \
            if series != "17.0" else ("", "")
        pg.sql(f"DELETE FROM res_users_apikeys WHERE user_id = {int(uid)};"  # type: ignore[call-overload]
               f"INSERT INTO res_users_apikeys (name, user_id, scope, index, key{column}) "
               f"VALUES ('ci {login}', {int(uid)}, NULL, '{key[:8]}', '{hashed}'{expiry})", db)  # type: ignore[call-overload]
    return key


def write_env(series: str, values: dict[str, str], timings: dict[str, float]) -> None:
    path = state_dir(series) / "env"
    path.write_text(f"# real Odoo {series}, written by tools/real_odoo.py up; timings (s): {json.dumps(timings)}\n"
                    + "".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    log(f"{series} up in {timings['total']:.0f}s: {json.dumps(timings)}")


def down(series: str, pg: Postgres | None) -> None:
    here = state_dir(series)
    if not here.exists():
        return
    with locked(here / "lock"):
        known = read_env(series)
        if known and alive(int(known["ODOO_PID"])):
            log(f"{series}: stopping pid {known['ODOO_PID']}")
            stop(int(known["ODOO_PID"]))
        if pg:
            pg.drop(*db_names(series).values())
        shutil.rmtree(here / "data", ignore_errors=True)
        (here / "env").unlink(missing_ok=True)


def purge(series: str, pg: Postgres) -> None:
    """Drop every template database of the series (the next `up` builds them again)."""
    with locked(CACHE / f"{series}.lock"):
        names = pg.sql(f"SELECT datname FROM pg_database WHERE datname LIKE 'tmpl\\_%\\_{short(series)}\\_%'")
        for db in names.split():
            log(f"dropping the template {db}")
            pg.drop(db)
            shutil.rmtree(CACHE / "data" / "filestore" / db, ignore_errors=True)
            (CACHE / f"{db}.json").unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "down", "env", "series", "purge"))
    parser.add_argument("series", nargs="*", help="17.0, 18.0 or 19.0 (default: all three; with ODOO_SRC: its own)")
    args = parser.parse_args(argv)
    series = [s for arg in args.series for s in arg.split()] or (
        [series_of(Path(os.environ["ODOO_SRC"]))] if os.environ.get("ODOO_SRC") else list(ALL_SERIES))
    for s in series:
        if s not in ALL_SERIES:
            parser.error(f"unknown series {s!r}: use {', '.join(ALL_SERIES)}")
    if args.command == "series":  # the series these arguments mean (for make test-odoo)
        print(" ".join(series))
        return 0
    if args.command == "env":
        for s in series:
            sys.stdout.write((state_dir(s) / "env").read_text() if (state_dir(s) / "env").exists() else "")
        return 0
    if args.command in ("down", "purge"):
        pg = postgres() if shutil.which("pg_lsclusters") else None
        for s in series:
            down(s, pg)
            if args.command == "purge" and pg:
                purge(s, pg)
        return 0
    pg = postgres()
    for s in series:
        if up(s, pg):  # the connection file without its API key (CI logs are read by many): `env` prints it whole
            print(f"# {state_dir(s) / 'env'}")
            secret = r"(?m)^(ODOO_(\w+_)?(API_KEY|PASSWORD)=).*$"
            sys.stdout.write(re.sub(secret, r"\1***", (state_dir(s) / "env").read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
