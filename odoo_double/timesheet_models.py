"""hr and hr_timesheet beside Community project: employees, analytic accounts and timesheet lines.

Read from hr_timesheet's source (17.0, 18.0, 19.0; models/hr_timesheet.py, project_project.py, project_task.py and
security/) and reproduced:

- a line of `account.analytic.line` is a timesheet when it has a task or a project; the task's project fills
  `project_id` (a task without one is private: 'Timesheets cannot be created on a private task.'), the project's
  analytic account fills `account_id`, an empty description is '/';
- the line's employee is the one linked to its user (`user_id`, the caller by default) in its company; none (or an
  archived one given as `employee_id`) is a ValidationError 'Timesheets must be created with an active employee in
  the selected companies.' Creating a user over the API makes no employee (hr only does when `create_employee` is
  set); the admin has one from hr's data;
- a project with timesheets (`allow_timesheets`, on by default) gets an analytic account when created or switched on
  (17 calls the field `analytic_account_id`, 18 and 19 `account_id`); one without an account refuses lines (17 and 18-19
  word it differently);
- a task shows its lines (`timesheet_ids`) and their sum (`effective_hours`);
- rights: timesheet users (hr_timesheet.group_hr_timesheet_user) create and see their own lines, 'User: all
  timesheets' (implied by Project: Administrator) and the Timesheets Administrator every line on a project;
  hr.employee is for HR officers (the Settings group reads it), and every internal user reads hr.employee.public,
  the same employees under the same ids.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from odoo_double import faults
from odoo_double.fields import Field
from odoo_double.orm import Env, ModelDef, Row, define

LINE = "account.analytic.line"
EMPLOYEE = "hr.employee"
PUBLIC_EMPLOYEE = "hr.employee.public"
ACCOUNT = "account.analytic.account"
TASK = "project.task"
PROJECT = "project.project"

TIMESHEET_USER = "hr_timesheet.group_hr_timesheet_user"
TIMESHEET_APPROVER = "hr_timesheet.group_hr_timesheet_approver"
TIMESHEET_MANAGER = "hr_timesheet.group_timesheet_manager"
HR_OFFICER = "hr.group_hr_user"
# (xmlid, name, category, implied xmlids, fixed id): installed before project's groups, whose Administrator implies
# 'User: all timesheets' (hr_timesheet_security.xml)
GROUPS = (
    (HR_OFFICER, "Officer: Manage all employees", "Employees", ("base.group_user",), 30),
    ("hr.group_hr_manager", "Administrator", "Employees", (HR_OFFICER,), 31),
    (TIMESHEET_USER, "User: own timesheets only", "Timesheets", ("base.group_user",), 32),
    (TIMESHEET_APPROVER, "User: all timesheets", "Timesheets", (TIMESHEET_USER,), 33),
    (TIMESHEET_MANAGER, "Administrator", "Timesheets", (TIMESHEET_APPROVER, HR_OFFICER), 34),
)
ADMIN_GROUPS = ("hr.group_hr_manager", TIMESHEET_MANAGER)

NO_EMPLOYEE = "Timesheets must be created with an active employee in the selected companies."
PRIVATE_TASK = "Timesheets cannot be created on a private task."


def account_field(major: int) -> str:
    """The project's analytic account: `analytic_account_id` on 17, `account_id` from 18."""
    return "analytic_account_id" if major < 18 else "account_id"


def _no_account(major: int) -> str:
    if major < 18:
        return "Timesheets must be created on a project or a task with an active analytic account."
    return "Timesheets must be created with at least an active analytic account defined in the plan 'Project'."


def _context_today(env: Env) -> Any:
    """fields.Date.context_today: today where the user is (the context's tz, else the user's, else UTC)."""
    zone = env.context.get("tz") or env.user.get("tz") or "UTC"
    try:
        where = ZoneInfo(str(zone))
    except (KeyError, ValueError):
        where = ZoneInfo("UTC")
    return env.now().replace(tzinfo=ZoneInfo("UTC")).astimezone(where).date()


# ---- employees ------------------------------------------------------------------------------------------------------

def _employee_access(env: Env, operation: str, rows: list[Row]) -> None:
    if env.has_group(HR_OFFICER) or (operation == "read" and env.has_group("base.group_system")):
        return
    raise faults.acl_denied(operation, EMPLOYEE, "Employee", ("Employees/Officer: Manage all employees",))


def _one_employee_per_user(env: Env, vals: dict[str, Any]) -> None:
    user, company = vals.get("user_id"), vals.get("company_id") or 1
    if user and any(e["user_id"] == user and e["company_id"] == company for e in env.rows(EMPLOYEE)):
        raise faults.validation_error("A user cannot be linked to multiple employees in the same company.")


_PUBLIC_FIELDS = ("name", "user_id", "company_id", "active", "job_title", "work_email")


def _publish(env: Env, row: Row, *rest: Any) -> None:
    """hr.employee.public is a view of hr.employee: the same ids and the public fields."""
    values = {name: row.get(name) for name in _PUBLIC_FIELDS}
    public = env.row(PUBLIC_EMPLOYEE, row["id"])
    if public is None:
        env.insert(PUBLIC_EMPLOYEE, values, record_id=row["id"])
    else:
        public.update(values)


def _public_access(env: Env, operation: str, rows: list[Row]) -> None:
    if operation != "read":
        raise faults.acl_denied(operation, PUBLIC_EMPLOYEE, "Public Employee")
    if env.is_portal:
        raise faults.acl_denied(operation, PUBLIC_EMPLOYEE, "Public Employee", ("User types/Internal User",))


def _employee_fields() -> list[Field]:
    return [
        Field("name", "char", "Employee Name", required=True),
        Field("user_id", "many2one", "User", relation="res.users"),
        Field("company_id", "many2one", "Company", relation="res.company", required=True, default=1),
        Field("active", "boolean", "Active", default=True),
        Field("job_title", "char", "Job Title"),
        Field("work_email", "char", "Work Email"),
    ]


# ---- projects and tasks ---------------------------------------------------------------------------------------------

def _give_project_an_account(env: Env, row: Row, *rest: Any) -> None:
    """hr_timesheet: a project with timesheets always has an analytic account (made on create, or when they are
    switched on)."""
    field = account_field(env.store.major)
    if row.get("allow_timesheets") and not row.get(field):
        account = env.insert(ACCOUNT, {"name": row.get("name") or "", "company_id": row.get("company_id") or 1})
        row[field] = account["id"]


def _lines_of(env: Env, task: Row) -> list[Row]:
    return [line for line in env.rows(LINE) if line.get("task_id") == task["id"]]


def with_timesheets(definitions: list[ModelDef], major: int) -> None:
    """project.project and project.task as hr_timesheet extends them."""
    for definition in definitions:
        if definition.name == PROJECT:
            definition.fields["allow_timesheets"] = Field("allow_timesheets", "boolean", "Timesheets", default=True)
            field = account_field(major)
            definition.fields[field] = Field(field, "many2one", "Analytic Account", relation=ACCOUNT)
            definition.after_create.append(_give_project_an_account)
            definition.after_write.append(_give_project_an_account)
        elif definition.name == TASK:
            definition.fields["allow_timesheets"] = Field(
                "allow_timesheets", "boolean", "Allow timesheets",
                compute=lambda env, row: bool((env.row(PROJECT, row.get("project_id")) or {}).get("allow_timesheets")))
            definition.fields["timesheet_ids"] = Field(
                "timesheet_ids", "one2many", "Timesheets", relation=LINE, inverse="task_id",
                compute=lambda env, row: [line["id"] for line in _lines_of(env, row)])
            definition.fields["effective_hours"] = Field(
                "effective_hours", "float", "Hours Spent",
                compute=lambda env, row: sum(line.get("unit_amount") or 0.0 for line in _lines_of(env, row)))


# ---- timesheet lines ------------------------------------------------------------------------------------------------

def _as_timesheet(env: Env, vals: dict[str, Any]) -> None:
    """hr_timesheet's create: the task's project, the project's account, '/' for no description, and the employee of
    the line's user (in that order: a private task or a project without account is refused before the employee)."""
    task_id, project_id = vals.get("task_id"), vals.get("project_id")
    if not task_id and not project_id:
        return  # an analytic line, not a timesheet
    if task_id:
        task = env.row(TASK, task_id)
        if task is None:
            raise faults.missing(TASK, [task_id], env.uid)
        if not task.get("project_id"):
            raise faults.validation_error(PRIVATE_TASK)
        vals.setdefault("project_id", task["project_id"])
    project = env.row(PROJECT, vals["project_id"])
    if project is None:
        raise faults.missing(PROJECT, [vals["project_id"]], env.uid)
    if not vals.get("account_id"):
        account = env.row(ACCOUNT, project.get(account_field(env.store.major)))
        if account is None or not account.get("active", True):
            raise faults.validation_error(_no_account(env.store.major))
        vals["account_id"] = account["id"]
        vals["company_id"] = account.get("company_id") or project.get("company_id") or 1
    if not vals.get("name"):
        vals["name"] = "/"
    vals.update(_employee_and_user(env, vals))


def _employee_and_user(env: Env, vals: dict[str, Any]) -> dict[str, int]:
    active = [e for e in env.rows(EMPLOYEE) if e.get("active", True)]
    given = vals.get("employee_id") or env.context.get("default_employee_id")
    if given:
        employee = next((e for e in active if e["id"] == given), None)
        if employee is None:
            raise faults.validation_error(NO_EMPLOYEE)
        return {"employee_id": employee["id"], "user_id": employee.get("user_id") or False}
    user = vals.get("user_id") or env.context.get("user_id") or env.uid
    theirs = [e for e in active if e.get("user_id") == user]
    company = vals.get("company_id") or 1
    employee = theirs[0] if len(theirs) == 1 else next((e for e in theirs if e["company_id"] == company), None)
    if employee is None:
        raise faults.validation_error(NO_EMPLOYEE)
    return {"employee_id": employee["id"], "user_id": user}


def _line_access(env: Env, operation: str, rows: list[Row]) -> None:
    if not env.has_group(TIMESHEET_USER):
        raise faults.acl_denied(operation, LINE, "Analytic Line", ("Timesheets/User: own timesheets only",))


def _line_rule(env: Env) -> Any:
    """The record rules: all lines on projects for approvers, administrators and Project Administrators; a timesheet
    user's own."""
    if any(env.has_group(xmlid) for xmlid in (TIMESHEET_APPROVER, TIMESHEET_MANAGER, "project.group_project_manager")):
        return lambda row: bool(row.get("project_id"))
    return lambda row: bool(row.get("project_id")) and row.get("user_id") == env.uid


def _created_within_the_rules(env: Env, row: Row, changes: Row) -> None:
    """Odoo checks a new record against the rules: a timesheet user cannot log time for someone else."""
    if not _line_rule(env)(row):
        raise faults.rule_denied(env.user.get("name", ""), env.uid, "create", LINE, "Analytic Line")


def _line_display(env: Env, row: Row) -> Any:
    project = env.row(PROJECT, row.get("project_id"))
    task = env.row(TASK, row.get("task_id"))
    if project is None:
        return row.get("name") or False
    return f"{project['name']} - {task['name']}" if task else project["name"]


def timesheet_models() -> list[ModelDef]:
    employee = define(EMPLOYEE, "Employee", _employee_fields(), order="name", prepare_create=[_one_employee_per_user],
                      after_create=[_publish], after_write=[_publish], access=_employee_access)
    public = define(PUBLIC_EMPLOYEE, "Public Employee", _employee_fields(), order="name", access=_public_access)
    account = define(ACCOUNT, "Analytic Account", [
        Field("name", "char", "Analytic Account", required=True),
        Field("code", "char", "Reference"),
        Field("active", "boolean", "Active", default=True),
        Field("company_id", "many2one", "Company", relation="res.company"),
        Field("partner_id", "many2one", "Customer", relation="res.partner"),
    ], order="code, name asc")
    line = define(LINE, "Analytic Line", [
        Field("name", "char", "Description", required=True),
        Field("date", "date", "Date", required=True, default=_context_today),
        Field("amount", "monetary", "Amount", required=True, default=0.0),
        Field("unit_amount", "float", "Quantity", default=0.0),
        Field("account_id", "many2one", "Project Account", relation=ACCOUNT),
        Field("partner_id", "many2one", "Partner", relation="res.partner"),
        Field("user_id", "many2one", "User", relation="res.users", default=lambda env: env.uid),
        Field("company_id", "many2one", "Company", relation="res.company", required=True, readonly=True, default=1),
        Field("category", "selection", "Category", selection=(("other", "Other"),), default="other"),
        Field("task_id", "many2one", "Task", relation=TASK),
        Field("parent_task_id", "many2one", "Parent Task", relation=TASK, readonly=True,
              compute=lambda env, row: (env.row(TASK, row.get("task_id")) or {}).get("parent_id") or False),
        Field("project_id", "many2one", "Project", relation=PROJECT),
        Field("employee_id", "many2one", "Employee", relation=EMPLOYEE),
    ], order="date desc, id desc", display=_line_display, prepare_create=[_as_timesheet],
        after_create=[_created_within_the_rules], access=_line_access, rule=_line_rule)
    return [employee, public, account, line]


def install(env: Env) -> None:
    """What hr's data makes: the administrator's employee."""
    admin = env.row("res.users", 2) or {}
    _publish(env, env.insert(EMPLOYEE, {"name": admin.get("name") or "Administrator", "user_id": 2, "company_id": 1,
                                        "work_email": admin.get("email") or False}))
