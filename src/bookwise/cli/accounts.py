"""``bookwise accounts``: add, edit, show, list (the assignment screen), set-parent, set-policy,
values (the value history)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bookwise.accounts.service import build_fields, create_account, get_account, update_account
from bookwise.assignments.inheritance import (
    inherit_into_new_account,
    move_account,
    set_inherit_policy,
)
from bookwise.assignments.listing import AccountPage, count_accounts, list_accounts
from bookwise.assignments.operation import Policy
from bookwise.assignments.schemas import OperationResult
from bookwise.cli.describe import describe_account, emit_account
from bookwise.cli.options import (
    AsOption,
    CountOption,
    DryRunOption,
    FingerprintOption,
    LimitOption,
    OffsetOption,
    SortOption,
    date_option,
)
from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    ResultFormat,
    ResultFormatOption,
    echo_json,
    emit_listing,
    emit_result,
    paging_footer,
    say,
)
from bookwise.cli.runtime import reading, resolve_actor, writing
from bookwise.cli.selecting import (
    AssignedToOption,
    FilterArgs,
    IdsFromOption,
    NotAssignedToOption,
    RefsArgument,
    RoleOption,
    SegmentOption,
    UnassignedOption,
    WhereOption,
    WhoOption,
    build_selection,
    read_refs,
)
from bookwise.dates import DATE_FORMS
from bookwise.errors import InvalidInput

accounts_app = typer.Typer(
    help="Add, edit, show and list accounts; change their parent and inherit policy.",
    no_args_is_help=True,
)

RefArgument = Annotated[str, typer.Argument(metavar="REF", help="External id or numeric id.")]

LIST_COLUMNS = [
    Column("id", "id", numeric=True),
    Column("external_id", "external id"),
    Column("name", "name"),
    Column("depth", "depth", numeric=True),
    Column("tier", "tier", numeric=True),
    Column("lifecycle_stage", "stage"),
    Column("mrr", "mrr", numeric=True),
    Column("health_score", "health", numeric=True),
    Column("csms", "csms"),
    Column("owner_inactive", "owner inactive"),
]


class OwnPolicy(StrEnum):
    """An account's own inherit policy."""

    inherit = "inherit"
    own = "own"


class PolicyChoice(StrEnum):
    """An account's policy, or the installation default."""

    inherit = "inherit"
    own = "own"
    default = "default"


POLICY_VALUES: dict[PolicyChoice, Policy | None] = {
    PolicyChoice.inherit: "inherit",
    PolicyChoice.own: "own",
    PolicyChoice.default: None,
}


def parse_attrs(pairs: list[str] | None) -> dict[str, str]:
    """``["plan=gold", "seats=10"]`` → ``{"plan": "gold", "seats": "10"}``."""
    found: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--attr")
        found[key.strip()] = value
    return found


Text = str | None
Number = int | None
ExternalIdOption = Annotated[Text, typer.Option("--external-id", metavar="ID", help="CRM id.")]
ParentOption = Annotated[Text, typer.Option("--parent", metavar="REF", help="Parent account.")]
MrrOption = Annotated[
    Text, typer.Option("--mrr", metavar="AMOUNT", help="Monthly revenue, e.g. 5000.00.")
]
TierOption = Annotated[Text, typer.Option("--tier", metavar="TIER", help="1, 2, … or 'Tier 1'.")]
StageOption = Annotated[Text, typer.Option("--stage", metavar="STAGE", help="Lifecycle stage.")]
RegionOption = Annotated[Text, typer.Option("--region", metavar="REGION")]
RenewalOption = Annotated[
    Text,
    typer.Option("--renewal-date", metavar="DATE", help=f"{DATE_FORMS}.", callback=date_option),
]
DomainOption = Annotated[Text, typer.Option("--domain", metavar="DOMAIN")]
HealthOption = Annotated[Number, typer.Option("--health-score", metavar="0-100")]
NpsOption = Annotated[Number, typer.Option("--nps", metavar="-100..100")]
RatingOption = Annotated[Number, typer.Option("--csm-rating", metavar="1-5")]
OwnPolicyOption = Annotated[
    OwnPolicy | None,
    typer.Option("--policy", help="inherit or own; unset follows the installation default."),
]
AttrOption = Annotated[
    list[str] | None,
    typer.Option("--attr", metavar="KEY=VALUE", help="A custom attribute (repeatable)."),
]


@accounts_app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The company name.")],
    external_id: ExternalIdOption = None,
    parent: ParentOption = None,
    mrr: MrrOption = None,
    health_score: HealthOption = None,
    tier: TierOption = None,
    stage: StageOption = None,
    nps: NpsOption = None,
    csm_rating: RatingOption = None,
    region: RegionOption = None,
    renewal_date: RenewalOption = None,
    domain: DomainOption = None,
    policy: OwnPolicyOption = None,
    attrs: AttrOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Add an account; under an inheriting parent it takes the parent's CSMs at once."""
    custom = parse_attrs(attrs)
    fields = build_fields(
        name=name,
        external_id=external_id,
        domain=domain,
        mrr=mrr,
        health_score=health_score,
        tier=tier,
        lifecycle_stage=stage,
        nps=nps,
        csm_rating=csm_rating,
        region=region,
        renewal_date=renewal_date,
        inherit_policy=policy.value if policy else None,
    )

    def work(session: Session) -> tuple[dict[str, Any], OperationResult | None]:
        acting = resolve_actor(session, actor)
        parent_account = get_account(session, parent) if parent else None
        account = create_account(
            session, fields=fields, parent=parent_account, custom=custom, actor=acting
        )
        result = inherit_into_new_account(session, account=account, actor=acting)
        return describe_account(session, account), result

    _print_added(*writing(work), fmt=fmt)


def _print_added(
    details: dict[str, Any], inheritance: OperationResult | None, *, fmt: ResultFormat
) -> None:
    if fmt is ResultFormat.json:
        inherited = inheritance.model_dump(mode="json") if inheritance else None
        echo_json({"account": details, "inheritance": inherited})
        return
    say(f"added account #{details['id']} {details['external_id'] or ''} ({details['name']})")
    emit_account(details)


EDIT_NUMBER_HELP = "Empty ('') clears it."


@accounts_app.command("edit")
def edit(
    ref: RefArgument,
    name: Annotated[Text, typer.Option("--name", metavar="NAME", help="The company name.")] = None,
    external_id: ExternalIdOption = None,
    domain: DomainOption = None,
    mrr: MrrOption = None,
    health_score: Annotated[
        Text, typer.Option("--health-score", metavar="0-100", help=EDIT_NUMBER_HELP)
    ] = None,
    tier: TierOption = None,
    stage: StageOption = None,
    nps: Annotated[Text, typer.Option("--nps", metavar="-100..100", help=EDIT_NUMBER_HELP)] = None,
    csm_rating: Annotated[
        Text, typer.Option("--csm-rating", metavar="1-5", help=EDIT_NUMBER_HELP)
    ] = None,
    region: RegionOption = None,
    renewal_date: RenewalOption = None,
    attrs: AttrOption = None,
    parent: Annotated[
        Text,
        typer.Option("--parent", metavar="REF", help="Move under this parent, as set-parent."),
    ] = None,
    top_level: Annotated[
        bool, typer.Option("--top-level", help="Move to the top level (as set-parent --none).")
    ] = False,
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Change an account's fields, custom attributes or parent; an empty value ('') clears.

    Fields are checked as by ``accounts add``. A new parent moves the account like
    ``set-parent`` (previewed with --dry-run, applied with --fingerprint, undoable); the
    inherit policy is changed with ``set-policy``.
    """
    given = {
        "name": name,
        "external_id": external_id,
        "domain": domain,
        "mrr": mrr,
        "health_score": health_score,
        "tier": tier,
        "lifecycle_stage": stage,
        "nps": nps,
        "csm_rating": csm_rating,
        "region": region,
        "renewal_date": renewal_date,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    custom = parse_attrs(attrs)
    if parent is not None and top_level:
        raise InvalidInput("give --parent REF or --top-level, not both")
    moving = parent is not None or top_level
    if not (changes or custom or moving):
        raise InvalidInput(
            "nothing to change: give a field (e.g. --name, --mrr), --attr or --parent"
        )
    if fingerprint and not moving:
        raise InvalidInput("--fingerprint applies to a move (--parent or --top-level)")

    def work(session: Session) -> tuple[dict[str, Any], dict[str, Any], OperationResult | None]:
        acting = resolve_actor(session, actor)
        account = get_account(session, ref)
        new_parent = get_account(session, parent) if parent else None
        savepoint = session.begin_nested() if dry_run else None
        changed = update_account(
            session, account=account, changes=changes, custom=custom, actor=acting
        )
        moved = None
        if moving:
            moved = move_account(
                session,
                account=account,
                parent=new_parent,
                actor=acting,
                dry_run=dry_run,
                expected_fingerprint=fingerprint,
            )
        details = describe_account(session, account)
        if savepoint is not None:
            savepoint.rollback()
        return details, changed, moved

    details, changed, moved = writing(work)
    if fmt is ResultFormat.json:
        echo_json(
            {
                "account": details,
                "changed": sorted(changed),
                "dry_run": dry_run,
                "move": moved.model_dump(mode="json") if moved else None,
            }
        )
        return
    verb = "would change" if dry_run else "changed"
    fields = ", ".join(sorted(changed)) if changed else "no field"
    say(f"{verb} {fields} of #{details['id']} {details['external_id'] or ''} ({details['name']})")
    if moved is not None:
        emit_result(moved, fmt, fingerprint_hint=True)
    elif not dry_run:
        emit_account(details)


@accounts_app.command("show")
def show(ref: RefArgument, fmt: ResultFormatOption = ResultFormat.table) -> None:
    """Show an account: fields, custom attributes, hierarchy, policy and current owners."""
    with reading() as session:
        details = describe_account(session, get_account(session, ref))
    if fmt is ResultFormat.json:
        echo_json(details)
    else:
        emit_account(details)


@accounts_app.command("set-parent")
def set_parent(
    ref: RefArgument,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="REF", help="The new parent.")
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="Make the account top-level.")] = False,
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Move an account (and its subtree) under another parent; cycles are refused."""
    if (parent is None) == (not none):
        raise InvalidInput("give exactly one of --parent REF or --none")

    def work(session: Session) -> Any:
        account = get_account(session, ref)
        new_parent = get_account(session, parent) if parent else None
        acting = resolve_actor(session, actor)
        return move_account(
            session,
            account=account,
            parent=new_parent,
            actor=acting,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)


@accounts_app.command("set-policy")
def set_policy(
    policy: Annotated[
        PolicyChoice,
        typer.Option(
            "--policy", help="inherit (follow the parent), own, or default (the installation's)."
        ),
    ],
    refs: RefsArgument = None,
    ids_from: IdsFromOption = None,
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Set the inherit policy of the named (or filtered) accounts.

    Switching to inherit replaces an account's CSMs by its parent's; switching to own keeps
    its current CSMs as its own.
    """
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )
    chosen = read_refs(refs, ids_from)

    def work(session: Session) -> Any:
        selection = build_selection(session, chosen, filters, required=True)
        return set_inherit_policy(
            session,
            selection=selection,
            policy=POLICY_VALUES[policy],
            actor=resolve_actor(session, actor),
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)


@accounts_app.command("list")
def list_(
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    sort: SortOption = "name",
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    count: CountOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List accounts: assigned to a CSM, not assigned (no-one / others), or matching a rule."""
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )
    with reading() as session:
        conditions, described = filters.conditions(session)
        if count:
            typer.echo(str(count_accounts(session, where=conditions)))
            return
        page = list_accounts(
            session, where=conditions, sort=sort, limit=limit, offset=offset, role=role
        )
    emit_account_page(fmt, page, filter=described)


def emit_account_page(fmt: OutputFormat, page: AccountPage, **about: str) -> None:
    """Print a page of accounts with its paging (and what selected it, in ``about``)."""
    items = [row.model_dump(mode="json") for row in page.items]
    emit_listing(
        fmt,
        items=items,
        columns=LIST_COLUMNS,
        total=page.total,
        paging={"limit": page.limit, "offset": page.offset, **about},
        footer=paging_footer(len(items), page.total, page.offset),
    )


VALUE_COLUMNS = [
    Column("changed_at", "changed (UTC)", time=True),
    Column("field", "field"),
    Column("previous", "from"),
    Column("value", "to"),
    Column("by", "by"),
    Column("source", "source"),
]


@accounts_app.command("values")
def values(
    ref: RefArgument,
    field: Annotated[
        Text,
        typer.Option(
            "--field",
            metavar="FIELD",
            help="Only this field: mrr, health_score, tier, lifecycle_stage, nps, csm_rating, "
            "region, renewal_date or parent.",
        ),
    ] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """An account's value history, newest first: each field's values, who changed them, when."""
    from bookwise.accounts.values import list_value_changes

    with reading() as session:
        page = list_value_changes(
            session, account=get_account(session, ref), field=field, limit=limit, offset=offset
        )
    emit_listing(
        fmt,
        items=[item.model_dump(mode="json") for item in page.items],
        columns=VALUE_COLUMNS,
        total=page.total,
        paging={"limit": page.limit, "offset": page.offset},
        footer=paging_footer(len(page.items), page.total, page.offset),
    )
