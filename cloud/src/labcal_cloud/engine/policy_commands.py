"""``labcal-cloud engine service-policy show|set|clear``: a tenant's service policy, the
planner's choice on the policy curve (a budget or a target of days out of tolerance), stored
per tenant and read by ``engine forecast`` and the pipeline's forecast stage."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.service_policy import (
    ServicePolicy,
    TargetKind,
    committed_curve,
    settings_for,
)
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore
from labcal_cloud.settings import Settings

__all__ = ["register_service_policy"]


def register_service_policy(sub: Any) -> None:
    sp: argparse.ArgumentParser = sub.add_parser(
        "service-policy",
        help="a tenant's service policy: a visit budget or a target of days out of tolerance",
        description="The planner's choice on the policy curve (docs/forecasting.md): the"
        " forecaster's setting with the fewest days out of tolerance at the budget, or the"
        " cheapest one that meets the target.",
    )
    actions = sp.add_subparsers(dest="policy_action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the stored choices and the settings they map to")
    show.add_argument("--tenant", help="one tenant (default: every tenant with a choice)")
    show.set_defaults(handler=show_policy)
    put = actions.add_parser("set", help="store a tenant's choice")
    put.add_argument("--tenant", required=True)
    target = put.add_mutually_exclusive_group(required=True)
    target.add_argument("--budget", type=float, help="visits per device-year (calibration = 1)")
    target.add_argument(
        "--days-out-of-tolerance", type=float, help="days out of tolerance per device-year"
    )
    put.add_argument("--by", default="", help="who chose it (kept with the choice)")
    put.set_defaults(handler=set_policy)
    clear = actions.add_parser("clear", help="remove a tenant's choice (defaults apply)")
    clear.add_argument("--tenant", required=True)
    clear.set_defaults(handler=clear_policy)


def _open(settings: Settings, action: str) -> Database | None:
    try:
        return connect(settings.database_url)
    except ValueError as exc:
        print(f"engine service-policy {action}: {exc}")
        return None


def _known_tenant(db: Database, tenant: str) -> str | None:
    """None if the portal knows the customer tenant, else the error to print."""
    rows = db.query("SELECT id FROM portal_tenants WHERE kind = 'customer' ORDER BY id")
    known = [str(r[0]) for r in rows]
    if tenant in known:
        return None
    listed = ", ".join(known) if known else "none yet"
    return f"unknown tenant {tenant!r} (customer tenants: {listed})"


def _describe(policy: ServicePolicy) -> str:
    s, why = settings_for(policy, committed_curve())
    qc = (
        f"every {s.quick_check_interval_days} days"
        + (f" or {s.quick_check_cycles:,.0f} cycles" if s.quick_check_cycles else "")
        if s.quick_check_interval_days
        else "none"
    )
    return (
        f"{policy.tenant}: {why}\n"
        f"  forecaster: alert probability {s.alert_probability:g}, guard {s.guard:g},"
        f" lead {s.lead_days:g} days, rationing below {s.min_life_days:g} days of life\n"
        f"  visits: quick checks {qc}; calibrate at least every"
        f" {s.calibration_interval_days} days\n"
        f"  chosen {policy.updated_at:%Y-%m-%d %H:%M} UTC"
        + (f" by {policy.updated_by}" if policy.updated_by else "")
    )


def show_policy(args: argparse.Namespace, settings: Settings) -> int:
    db = _open(settings, "show")
    if db is None:
        return 2
    try:
        store = SqlServicePolicyStore(db)
        if args.tenant:
            one = store.service_policy(args.tenant)
            policies = {args.tenant: one} if one else {}
        else:
            policies = store.service_policies()
        if not policies:
            print("engine service-policy: no choice stored; the forecaster's defaults apply")
            return 0
        for tenant in sorted(policies):
            print(_describe(policies[tenant]))
    finally:
        db.close()
    return 0


def set_policy(args: argparse.Namespace, settings: Settings) -> int:
    kind: TargetKind = "budget" if args.budget is not None else "days_out_of_tolerance"
    value = args.budget if args.budget is not None else args.days_out_of_tolerance
    try:
        policy = ServicePolicy(args.tenant, kind, value, datetime.now(UTC), args.by)
    except PolicyError as exc:
        print(f"engine service-policy set: {exc}")
        return 2
    db = _open(settings, "set")
    if db is None:
        return 2
    try:
        problem = _known_tenant(db, args.tenant)
        if problem:
            print(f"engine service-policy set: {problem}")
            return 2
        SqlServicePolicyStore(db).save_service_policy(policy)
        print(_describe(policy))
    finally:
        db.close()
    return 0


def clear_policy(args: argparse.Namespace, settings: Settings) -> int:
    db = _open(settings, "clear")
    if db is None:
        return 2
    try:
        removed = SqlServicePolicyStore(db).clear_service_policy(args.tenant)
    finally:
        db.close()
    print(
        f"engine service-policy clear: {args.tenant}: "
        + ("removed; the forecaster's defaults apply" if removed else "had no choice stored")
    )
    return 0
