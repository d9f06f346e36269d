"""The columnar engine: the catalogue over the two views, then the amounts, as Ibis expressions.

DuckDB runs them by default (embedded, over Parquet or Arrow). Steps:

1. views (:mod:`bhyt.assessment.views`) are materialised once;
2. every rule of a view is one filter; findings are their union (code, claim, table, line, arguments);
3. amounts: lines not rejected, at the approved price and the rates the rules allow, split by the
   benefit rate recomputed from the policy parameters (the same formulas as ``policy.benefit`` and
   ``policy.split``, which the reference evaluator calls directly), with the supply-package ceiling;
4. the rules that compare claimed with computed amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from bhyt.assessment.backends import connect, is_spark, keep, read_parquet, release
from bhyt.assessment.catalogue import AFTER_AMOUNTS, RULES
from bhyt.assessment.inputs import CLAIM_COLUMNS, LINE_COLUMNS, Batch
from bhyt.assessment.rules import EngineCtx, Needs, Rule, Scope, Severity
from bhyt.assessment.views import DEC, M2, SUPPLY_GROUPS, claim_view, cross_claim_view, line_view, lookup
from bhyt.policy.benefit import RATE_PARAMETERS, small_visit_threshold
from bhyt.policy.params import ParameterSet

ARGS = 4  # a message quotes at most this many columns


@dataclass(frozen=True)
class EngineResult:
    findings: pa.Table  # seq, rule, table, line, a0..a3
    claims: pa.Table  # seq, assessed_rate, fund, copay, outside, rejected, package_cut (cents as decimals)
    lines: pa.Table  # seq, table, line_no, item_code, cost_group, quantity, unit_price, total, kept, fund, …


def available(rules: tuple[Rule, ...], batch: Batch) -> tuple[Rule, ...]:
    have = {n for n, given in ((Needs.CATALOGUE, batch.has_catalogue), (Needs.DB, batch.history is not None)) if given}
    return tuple(r for r in rules if r.needs <= have)


def _source(
    con: ibis.BaseBackend, data: pa.Table | str, columns: dict[str, pa.DataType], name: str, row_id: str
) -> ir.Table:
    """The canonical columns of ``data`` and ``row_id``, each row's position in the input."""
    if isinstance(data, str):
        t = read_parquet(con, data, name)
    else:
        if row_id not in data.column_names:
            data = data.append_column(row_id, pa.array(range(data.num_rows), pa.int64()))
        t = ibis.memtable(data)
    cols = {}
    for col, type_ in columns.items():
        dtype = ibis.dtype(type_)
        if col in t.columns:
            value = t[col]
            cols[col] = value.cast("string").cast(dtype) if dtype.is_string() else value.cast(dtype)
        else:
            cols[col] = ibis.null(dtype)
    if "item_code" in columns and "supply_code" in t.columns:  # XML3 supplies carry MA_VAT_TU instead
        cols["item_code"] = cols["item_code"].nullif("").coalesce(t.supply_code.cast("string"))
    if "file" in columns and "file" not in t.columns and "filename" in t.columns:
        cols["file"] = t.filename
    if row_id in t.columns:
        cols[row_id] = t[row_id].cast("int64")
    else:  # input order: files by name, rows as stored (a line's id needs no order on DuckDB, Spark wants one)
        ordered = row_id == "seq" or is_spark(con)
        row = ibis.row_number().over(order_by=[t.filename, t.file_row_number] if ordered else None)
        cols[row_id] = row.cast("int32").cast("int64")  # Ibis types it int64 and drops a lone cast; Spark's is 32-bit
    if "occurrence" not in t.columns:
        cols["occurrence"] = ibis.literal(1, "int32")
    if "insured_price" in cols:
        cols["insured_price"] = cols["insured_price"].coalesce(cols["unit_price"])
    return t.select(**cols)


def _of_claims(lines: ir.Table, claims: ir.Table) -> ir.Table:
    """Lines with their claim's ``seq``, the one key the later joins use (lines of no claim are left out)."""
    keys = claims.select(k_facility=claims.facility, k_claim_id=claims.claim_id, k_occurrence=claims.occurrence,
                         seq=claims.seq)  # fmt: skip
    on = [lines.facility == keys.k_facility, lines.claim_id == keys.k_claim_id, lines.occurrence == keys.k_occurrence]
    return lines.join(keys, on).drop("k_facility", "k_claim_id", "k_occurrence")


def boundaries(params: ParameterSet, first: date, last: date) -> list[date]:
    """Dates within (first, last] on which some parameter changes: the epochs' starts."""
    return [d for d in params.change_dates(params.names()) if first < d <= last]


def assess(
    batch: Batch,
    params: ParameterSet,
    policy_date: date | None = None,
    con: ibis.BaseBackend | None = None,
    rules: tuple[Rule, ...] = RULES,
    after: tuple[Rule, ...] = AFTER_AMOUNTS,
) -> EngineResult:
    """Assess ``batch``: findings of ``rules`` (those its inputs allow), amounts, then ``after``."""
    con = con or connect()
    claims = keep(con, "claims_in", _source(con, batch.claims, CLAIM_COLUMNS, "claims_src", "seq"))
    lines = keep(con, "lines_in", _of_claims(_source(con, batch.lines, LINE_COLUMNS, "lines_src", "lid"), claims))
    span = con.to_pyarrow(
        claims.aggregate(first=claims.admitted_at.min().date(), last=claims.admitted_at.max().date())
    ).to_pylist()[0]
    first, last = span["first"], span["last"]
    if policy_date is not None or first is None:
        epochs = [policy_date or max(params.change_dates(params.names()))]
        bounds: list[date] = []
    else:
        bounds = boundaries(params, first, last)
        epochs = [first, *bounds]
    ctx = EngineCtx(params, epochs)
    facilities = ibis.memtable(batch.facilities) if batch.facilities is not None else None
    items = ibis.memtable(batch.items) if batch.items is not None else None
    prices = ibis.memtable(batch.prices) if batch.prices is not None else None
    history = ibis.memtable(batch.history) if batch.history is not None else None
    cv = keep(con, "claim_own", claim_view(claims, lines, ctx, bounds, policy_date, facilities))
    release(con, "claims_in")
    cv = keep(con, "claim_view", cross_claim_view(cv, history))
    release(con, "claim_own")
    chosen = available(rules, batch)
    lv = line_view(lines, cv, ctx, items, prices)
    lv = keep(con, "line_view", _narrowed(lv, [r for r in chosen if r.scope is Scope.LINE], ctx))
    release(con, "lines_in")
    found = _findings(chosen, cv, lv, ctx)
    found = keep(con, "findings", found)
    amounts_l, amounts_c = _amounts(con, cv, lv, found, ctx)
    amounts_c = keep(con, "claim_amounts", amounts_c)
    release(con, "claim_view", "line_view", "claim_rated")
    all_found = found.union(_findings(after, amounts_c, None, ctx)) if after else found
    order = [all_found.seq, all_found.line.isnull().desc(), all_found.table, all_found.line, all_found.rule]
    return EngineResult(
        findings=_arrow(con, all_found.order_by(order)),
        claims=_arrow(
            con,
            amounts_c.select(
                "seq",
                "file",
                "facility",
                "claim_id",
                "card",
                "card_group",
                "n_lines",
                "assessed_rate",
                "admitted_at",
                "discharged_at",
                "main_diagnosis",
                "total",
                # what the claim says about the visit, for the reports and the abuse detectors
                "citizen_id",
                "birth_date",
                "sex",
                "registered_facility",
                "facility_level",
                "route_code",
                "referred_from",
                "referred_to",
                "visit_type",
                "treatment_days",
                "outcome",
                "inpatient",
                period=amounts_c.discharged_at.strftime("%Y-%m"),
                claimed_fund=amounts_c.fund,
                fund=amounts_c.a_fund,
                copay=amounts_c.a_copay,
                outside=amounts_c.a_outside,
                rejected=amounts_c.a_rejected,
                package_cut=amounts_c.package_cut,
            ).order_by("seq"),
        ),
        lines=_arrow(con, amounts_l.order_by(["seq", "table", "line_no"])),
    )


# What the amounts step reads of a line, besides what the rules read.
PRICED_LINE = ("seq", "table", "line_no", "item_code", "cost_group", "quantity", "unit_price", "total",
               "supply_package", "a_total", "a_insured", "a_other")  # fmt: skip


def _narrowed(view: ir.Table, rules: list[Rule], ctx: EngineCtx) -> ir.Table:
    """The columns of ``view`` that ``rules`` and the amounts read, and no others. Materialising a
    line costs by its width, and the backend drops what computes only unread columns (a window, a
    join) — so a run of a few rules does not pay for the whole catalogue's view."""
    read = set(PRICED_LINE)
    for r in rules:
        read |= set(r.args)
        read |= {f.name for f in r.engine(view, ctx).op().find(ops.Field) if f.rel == view.op()}
    return view.select(*(c for c in view.columns if c in read))


def _arrow(con: ibis.BaseBackend, expr: ir.Table) -> pa.Table:
    """The rows of ``expr`` with the Arrow types of its schema (Spark's come through pandas); times
    in seconds, as the standard writes them to the minute (Spark's are microseconds)."""
    schema = pa.schema(
        pa.field(f.name, pa.timestamp("s")) if pa.types.is_timestamp(f.type) else f for f in expr.schema().to_pyarrow()
    )
    return con.to_pyarrow(expr).cast(schema)


def _findings(rules: tuple[Rule, ...], cv: ir.Table, lv: ir.Table | None, ctx: EngineCtx) -> ir.Table:
    parts = []
    for r in rules:
        view = cv if r.scope is Scope.CLAIM else lv
        assert view is not None
        hit = view.filter(r.engine(view, ctx).fill_null(False))
        args = {
            f"a{i}": (hit[a].cast("string") if i < len(r.args) else ibis.null("string"))
            for i, a in enumerate(r.args + ("",) * (ARGS - len(r.args)))
        }
        line = hit.line_no.cast("int32") if r.scope is Scope.LINE else ibis.null("int32")
        table = hit.table if r.scope is Scope.LINE else ibis.literal("XML1")
        parts.append(
            hit.select(
                seq=hit.seq,
                rule=ibis.literal(r.code),
                severity=ibis.literal(r.severity.value),
                table=table,
                line=line,
                **args,
            )
        )
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out


def _amounts(
    con: ibis.BaseBackend, cv: ir.Table, lv: ir.Table, found: ir.Table, ctx: EngineCtx
) -> tuple[ir.Table, ir.Table]:
    """Assessed amounts of every line and claim (decimals of đồng, 2 places), from the lines' prices
    (:func:`bhyt.assessment.views.line_view`), the findings and each claim's benefit rate."""
    pct = ibis.literal(0.01, DEC)
    rc = found.filter(found.severity == Severity.REJECT_CLAIM.value).select(rc_seq=found.seq).distinct()
    rl = found.filter(found.severity == Severity.REJECT_LINE.value)
    rl = rl.select(rl_seq=rl.seq, rl_table=rl.table, rl_line=rl.line).distinct()
    ln = lv.left_join(rc, lv.seq == rc.rc_seq)
    ln = ln.left_join(rl, [ln.seq == rl.rl_seq, ln.table == rl.rl_table, ln.line_no == rl.rl_line])
    ln = ln.mutate(kept=ln.rc_seq.isnull() & ln.rl_seq.isnull()).drop("rc_seq", "rl_seq", "rl_table", "rl_line")
    kept_insured = ibis.ifelse(ln.kept, ln.a_insured, 0)
    per_claim = ln.group_by(t_seq=ln.seq).aggregate(in_scope_total=kept_insured.sum())
    c = cv.left_join(per_claim, cv.seq == per_claim.t_seq).drop("t_seq")
    c = c.mutate(in_scope_total=c.in_scope_total.coalesce(0).cast(M2))
    basic = _rate(c, ctx, "basic")
    primary = _rate(c, ctx, "primary")
    chosen = ibis.ifelse(
        c.facility_level.notnull(),
        _rate(c, ctx, None),
        ibis.ifelse((c.submitted_rate.cast(DEC) == primary).fill_null(False), primary, basic),
    )
    c = c.left_join(rc, c.seq == rc.rc_seq)
    c = c.mutate(assessed_rate=ibis.ifelse(c.rc_seq.isnull(), chosen, ibis.null(DEC)).cast("decimal(12, 4)"))
    c = c.drop("rc_seq")
    c = c.mutate(
        level_rate=ctx.per_epoch(
            c, lambda d: lookup(c.card_digit, ctx.params.percent_by_code("benefit.level_rate", d), DEC)
        ),
        ceiling=ctx.per_epoch(
            c,
            lambda d: ibis.literal(
                ctx.params.integer("items.supply_package_ceiling_months", d)
                * ctx.params.money("general.reference_amount", d),
                DEC,
            ),
        ),
    )
    c = c.mutate(ceiling=(c.ceiling * c.level_rate * pct).round(2))
    c = keep(con, "claim_rated", c)  # read by the lines and by the claims' sums: computed once
    rates = c.select(r_seq=c.seq, r_rate=c.assessed_rate, r_ceiling=c.ceiling)
    ln = ln.left_join(rates, ln.seq == rates.r_seq).drop("r_seq")
    fund0 = (ln.a_insured.cast(DEC) * ln.r_rate.cast(DEC) * pct).round(2).cast(M2)
    outside0 = ln.a_total - ln.a_insured
    copay0 = ln.a_insured - fund0
    excess = ibis.greatest(ln.a_other - outside0, 0)
    ln = ln.mutate(
        a_outside=ibis.greatest(outside0 - ln.a_other, 0).cast(M2),
        a_copay=ibis.greatest(copay0 - excess, 0).cast(M2),
        a_fund=(fund0 - ibis.greatest(excess - copay0, 0)).cast(M2),
    )
    # Supplies of one package over the ceiling: the excess moves from the fund to the patient,
    # taken from the package's last lines first (policy.split.price_visit).
    pkg = ln.kept & ln.supply_package.notnull() & ln.cost_group.isin(SUPPLY_GROUPS)
    w_all = ibis.window(group_by=[ln.seq, ln.supply_package, pkg])
    w_after = ibis.window(
        group_by=[ln.seq, ln.supply_package, pkg], order_by=[ln.table.desc(), ln.line_no.desc()], rows=(None, -1)
    )
    over = ln.a_fund.sum().over(w_all) - ln.r_ceiling
    after = ln.a_fund.sum().over(w_after).coalesce(0)
    cut = ibis.ifelse(pkg, ibis.greatest(ibis.least(over - after, ln.a_fund), 0), 0).cast(M2)
    ln = ln.mutate(a_cut=cut)
    ln = ln.mutate(a_fund=ln.a_fund - ln.a_cut, a_copay=ln.a_copay + ln.a_cut)
    zero = ibis.literal(0, M2)
    lines = ln.select(
        seq=ln.seq,
        table=ln.table,
        line_no=ln.line_no,
        item_code=ln.item_code,
        cost_group=ln.cost_group,
        quantity=ln.quantity,
        unit_price=ln.unit_price,
        total=ln.total,
        kept=ln.kept,
        fund=ibis.ifelse(ln.kept, ln.a_fund, zero),
        copay=ibis.ifelse(ln.kept, ln.a_copay, zero),
        outside=ibis.ifelse(ln.kept, ln.a_outside, zero),
        rejected=ibis.ifelse(ln.kept, zero, ln.total.cast(M2).coalesce(zero)),
        cut=ibis.ifelse(ln.kept, ln.a_cut, zero),
    )
    lines = keep(con, "line_amounts", lines)  # read twice: computed once
    sums = lines.group_by(s_seq=lines.seq).aggregate(
        a_fund=lines.fund.sum(),
        a_copay=lines.copay.sum(),
        a_outside=lines.outside.sum(),
        a_rejected=lines.rejected.sum(),
        package_cut=lines.cut.sum(),
    )
    c = c.left_join(sums, c.seq == sums.s_seq).drop("s_seq")
    c = c.mutate(
        a_fund=c.a_fund.coalesce(zero),
        a_copay=c.a_copay.coalesce(zero),
        a_outside=c.a_outside.coalesce(zero),
        a_rejected=c.a_rejected.coalesce(zero),
        package_cut=c.package_cut.coalesce(zero),
    )
    return lines, c


def _rate(c: ir.Table, ctx: EngineCtx, level: str | None) -> ir.Value:
    """MUC_HUONG as policy.benefit.benefit_rate computes it, for the facility level given (None:
    the claim's own)."""
    hundred = ibis.literal(100, DEC)

    def at(d: date) -> ir.Value:
        p = ctx.params
        for name in RATE_PARAMETERS:
            p.entry(name, d)  # every parameter the rate reads is in force (raises otherwise)
        level_rate = lookup(c.card_digit, p.percent_by_code("benefit.level_rate", d), DEC)
        self_ref = c.route_code.isin(list(p.code_list("route.self_referral_codes", d)))
        rr = c.route_rate.cast(DEC)
        rr = ibis.ifelse(c.area_present & c.inpatient & self_ref & (rr < hundred), hundred, rr)
        small = c.in_scope_total.cast(DEC) < ibis.literal(small_visit_threshold(p, d), DEC)
        fac = c.facility_level if level is None else ibis.literal(level)
        primary = (
            (fac == "primary")
            & ibis.literal(p.flag("benefit.primary_level_full_rate", d))
            & ~c.visit_type.isin(list(p.code_list("benefit.primary_level_excluded_visit_types", d)))
        )
        exempt = c.exempt & ~self_ref
        effective = ibis.ifelse(small | primary.fill_null(False) | exempt, hundred, level_rate)
        return effective * rr * ibis.literal(0.01, DEC)

    return ctx.per_epoch(c, at)
