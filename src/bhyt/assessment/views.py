"""The two views every rule reads, built as Ibis expressions: one row per claim, one per line.

Each view adds to the submitted columns what a rule needs to decide in one row: the parameter
epoch, the card's parts and its check, the ICD-10 entry of the main diagnosis, the catalogue entry
and approved price of a line, a line's place among the same day's consultations, and the
cross-claim facts (an earlier identical claim, an overlapping stay, another facility the same day).
The reference evaluator (:mod:`bhyt.assessment.reference`) derives the same columns in plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import ibis
import ibis.expr.types as ir

from bhyt.assessment.rules import EngineCtx
from bhyt.policy.provinces import province_codes
from bhyt.refdata import icd10

BED_GROUPS = ("14", "15")
EXAM_GROUP = "13"
SUPPLY_GROUPS = ("10", "11")
DEC = "decimal(38, 4)"  # quantities, prices and percentages: exact, with room for every product
M2 = "decimal(38, 2)"  # amounts in đồng, to the cent as the standard writes them


def in_list(ctx: EngineCtx, view: ir.Table, column: ir.Value, name: str) -> ir.BooleanValue:
    """Whether ``column`` is in the code list ``name`` in force in the row's epoch."""
    result: ir.BooleanValue = ctx.per_epoch(view, lambda d: column.isin(list(ctx.params.code_list(name, d))))
    return result.fill_null(False)


def epoch_of(at: ir.DateValue, boundaries: list[date]) -> ir.IntegerValue:
    if not boundaries:
        return ibis.literal(0, "int32")
    branches = [(at < ibis.literal(b), i) for i, b in enumerate(boundaries)]
    return ibis.cases(*branches, else_=len(boundaries)).cast("int32")


def claim_view(
    claims: ir.Table,
    lines: ir.Table,
    ctx: EngineCtx,
    boundaries: list[date],
    policy_date: date | None,
    facilities: ir.Table | None,
) -> ir.Table:
    """One row per claim with everything claim rules read but the cross-claim facts."""
    c = claims
    contracts = facilities is not None and "contract_from" in facilities.columns
    if facilities is not None:
        extra = {"f_from": facilities.contract_from, "f_to": facilities.contract_to} if contracts else {}
        levels = facilities.select(level_code=facilities.code, registry_level=facilities.level, **extra)
        c = c.left_join(levels, c.facility == levels.level_code)
        c = c.mutate(facility_level=c.facility_level.coalesce(c.registry_level), in_registry=c.level_code.notnull())
        c = c.drop("level_code", "registry_level")
    at = ibis.literal(policy_date) if policy_date else c.admitted_at.date()
    c = c.mutate(at=at, admit_day=c.admitted_at.date(), discharge_day=c.discharged_at.date())
    if contracts:  # a facility in the registry: outside its contract on the admission day, or with none
        outside = c.f_from.isnull() | (c.admit_day < c.f_from) | (c.admit_day > c.f_to).fill_null(False)
        c = c.mutate(contract_from=c.f_from, contract_to=c.f_to, uncontracted=c.in_registry & outside.fill_null(False))
        c = c.drop("f_from", "f_to")
    else:
        c = c.mutate(contract_from=ibis.null("date"), contract_to=ibis.null("date"), uncontracted=ibis.literal(False))
    if facilities is not None:
        c = c.drop("in_registry")
    c = c.mutate(
        epoch=epoch_of(c.at, boundaries),
        age_days=c.admit_day.delta(c.birth_date, unit="day"),
        age_years=(_ymd(c.admit_day) - _ymd(c.birth_date)) // 10000,
        exempt=(c.copay_exempt_from <= c.admit_day).fill_null(False)
        & (c.five_year_date <= c.admit_day).fill_null(False),
        area_present=c.living_area.notnull() & (c.living_area != ""),
    )
    c = c.mutate(
        inpatient=in_list(ctx, c, c.visit_type, "visit.inpatient_types"),
        visit_type_known=in_list(ctx, c, c.visit_type, "visit.types"),
        sex_code=c.sex.cases((1, "M"), (2, "F"), else_=None),
        card_group=c.card.substr(0, 2),
        card_digit=c.card.substr(2, 1),
        card_province=c.card.substr(3, 2),
        card_bhxh=c.card.substr(5, 10),
    )
    c = c.mutate(
        route_rate=ctx.per_epoch(c, lambda d: _route_rate(ctx, c, d)),
        usual_digit=ctx.per_epoch(
            c, lambda d: lookup(c.card_group, ctx.params.code_by_code("benefit.usual_level_by_group", d), "string")
        ),
        card_error=ctx.per_epoch(c, lambda d: _card_error(ctx, c, d)),
        area_known=c.living_area.isnull()
        | (c.living_area == "")
        | in_list(ctx, c, c.living_area, "benefit.living_area_codes"),
        grace_days=ctx.per_epoch(c, lambda d: ibis.literal(ctx.params.integer("card.expiry_grace_days", d))),
    )
    icd = ibis.memtable(icd10().select(["code", "main_allowed", "sex", "min_age_days", "max_age_days"]))
    icd = icd.rename(
        icd_code="code",
        icd_main_allowed="main_allowed",
        icd_sex="sex",
        icd_min_age="min_age_days",
        icd_max_age="max_age_days",
    )
    c = c.left_join(icd, c.main_diagnosis == icd.icd_code)
    c = c.mutate(icd_known=c.icd_code.notnull()).drop("icd_code")
    sums = lines.group_by(s_seq=lines.seq).aggregate(
        n_lines=lines.count(),
        lines_total=lines.total.sum(),
        lines_fund=lines.fund.sum(),
        submitted_rate=lines.benefit_rate.max(),
    )
    c = c.left_join(sums, c.seq == sums.s_seq).drop("s_seq")
    c = c.mutate(n_lines=c.n_lines.fill_null(0))
    return c.mutate(expected_days=_expected_days(c), bed_allowed=_bed_allowed(ctx, c))


def cross_claim_view(c: ir.Table, history: ir.Table | None = None) -> ir.Table:
    """The claim view with what other claims say of each (``c``: the kept :func:`claim_view`, which
    the self-joins read several times; ``history``: claims paid in earlier runs)."""
    return _stored(_cross_claim(c), history)


def lookup(column: ir.Value, mapping: Mapping[str, object], dtype: str) -> ir.Value:
    """The mapped value of ``column``, null when it is not a key."""
    if not mapping:
        return ibis.null(dtype)
    return column.cases(*((k, ibis.literal(v, dtype)) for k, v in mapping.items()), else_=ibis.null(dtype))


def _ymd(day: ir.DateValue) -> ir.IntegerValue:
    return day.year() * 10000 + day.month() * 100 + day.day()


def _route_rate(ctx: EngineCtx, c: ir.Table, d: date) -> ir.Value:
    rates = ctx.params.route_rates("route.rates", d)
    inpatient = {k: v.inpatient for k, v in rates.items() if v.inpatient is not None}
    outpatient = {k: v.outpatient for k, v in rates.items() if v.outpatient is not None}
    return ibis.ifelse(
        c.inpatient,
        lookup(c.route_code, inpatient, DEC),
        lookup(c.route_code, outpatient, DEC),
    )


def _card_error(ctx: EngineCtx, c: ir.Table, d: date) -> ir.Value:
    """policy.card.check_card as an expression: the first failing check's code, null when valid."""
    p = ctx.params
    usual = list(p.code_by_code("benefit.usual_level_by_group", d))
    digits = list(p.percent_by_code("benefit.level_rate", d))
    provinces = sorted(province_codes() | frozenset(p.code_list("card.special_province_codes", d)))
    temporary = list(p.code_list("card.temporary_groups", d))
    card = c.card
    return ibis.cases(
        (card.isnull() | (card == ""), "card.missing"),
        (card.length() != 15, "card.length"),
        (~c.card_group.isin(usual), "card.group"),
        (~c.card_digit.isin(digits), "card.benefit_digit"),
        (~c.card_province.isin(provinces), "card.province"),
        (~c.card_bhxh.re_search("^[0-9]{10}$"), "card.bhxh_number"),
        (c.registered_facility.endswith("000").fill_null(False) & ~card.substr(0, 3).isin(temporary), "card.temporary"),
        else_=None,
    )


def _earlier(at: ir.Value, seq: ir.Value, other_at: ir.Value, other_seq: ir.Value) -> ir.BooleanValue:
    """Admitted before the other claim (ties broken by input order)."""
    return (at < other_at) | ((at == other_at) & (seq < other_seq))


def _cross_claim(c: ir.Table) -> ir.Table:
    """An earlier identical claim; an overlapping inpatient stay; another facility the same day."""
    # The first claim of each duplicate key, by a hash aggregate: a window over the key would sort
    # a partition per claim. Keys match null to null, as a window's partitions do.
    firsts = c.group_by([c[k].name(f"dk_{k}") for k in DUPLICATE_KEY]).aggregate(
        dup_first_seq=c.seq.min(), dup_first=c.claim_id.argmin(c.seq)
    )
    c = c.left_join(firsts, [c[k].identical_to(firsts[f"dk_{k}"]) for k in DUPLICATE_KEY])
    c = c.mutate(is_copy=c.seq != c.dup_first_seq).drop("dup_first_seq", *(f"dk_{k}" for k in DUPLICATE_KEY))
    stays = c.filter(c.inpatient).select(
        o_seq=c.seq, o_card=c.card, o_facility=c.facility, o_claim=c.claim_id, o_in=c.admitted_at, o_out=c.discharged_at
    )
    mine = c.filter(c.inpatient).select("seq", "card", "facility", "admitted_at", "discharged_at")
    pairs = mine.join(
        stays,
        [
            mine.card == stays.o_card,
            mine.facility != stays.o_facility,
            mine.admitted_at < stays.o_out,
            stays.o_in < mine.discharged_at,
            _earlier(stays.o_in, stays.o_seq, mine.admitted_at, mine.seq),
        ],
    )
    overlap = pairs.group_by(ov_seq=pairs.seq).aggregate(
        overlap_with=pairs.o_claim.min(), overlap_facility=pairs.o_facility.min()
    )
    c = c.left_join(overlap, c.seq == overlap.ov_seq).drop("ov_seq")
    day = c.select(
        d_seq=c.seq,
        d_card=c.card,
        d_day=c.admit_day,
        d_facility=c.facility,
        d_at=c.admitted_at,
        d_from=c.referred_from,
        d_to=c.referred_to,
    )
    me = c.select("seq", "card", "admit_day", "facility", "admitted_at", "referred_from", "referred_to")
    same = me.join(
        day,
        [
            me.card == day.d_card,
            me.admit_day == day.d_day,
            me.facility != day.d_facility,
            _earlier(day.d_at, day.d_seq, me.admitted_at, me.seq),
            (me.referred_from != day.d_facility).fill_null(True),
            (day.d_to != me.facility).fill_null(True),
        ],
    )
    same = same.group_by(sd_seq=same.seq).aggregate(same_day_facility=same.d_facility.min())
    return c.left_join(same, c.seq == same.sd_seq).drop("sd_seq")


DUPLICATE_KEY = ("facility", "card", "admitted_at", "discharged_at", "main_diagnosis", "total", "fund")


def _stored(c: ir.Table, history: ir.Table | None) -> ir.Table:
    """The first claim of an earlier run with the same duplicate key under another MA_LK (the same
    MA_LK again is that claim re-assessed, not a copy)."""
    if history is None:
        return c.mutate(stored_first=ibis.null("string"))
    h = history.select(h_claim=history.claim_id, **{f"h_{k}": history[k] for k in DUPLICATE_KEY})
    me = c.select("seq", "claim_id", *DUPLICATE_KEY)
    pairs = me.join(h, [*(me[k].identical_to(h[f"h_{k}"]) for k in DUPLICATE_KEY), me.claim_id != h.h_claim])
    first = pairs.group_by(st_seq=pairs.seq).aggregate(stored_first=pairs.h_claim.min())
    return c.left_join(first, c.seq == first.st_seq).drop("st_seq")


def _expected_days(c: ir.Table) -> ir.Value:
    """SO_NGAY_DTRI: 0 for types 01, 07, 09; discharge − admission + 1 for 02, 03, 04, 06 (QĐ 4750)."""
    span = c.discharge_day.delta(c.admit_day, unit="day") + 1
    return ibis.cases(
        (c.visit_type.isin(["01", "07", "09"]), ibis.literal(0, "int64")),
        (c.visit_type.isin(["02", "03", "04", "06"]), span.cast("int64")),
        else_=ibis.null("int64"),
    )


def _bed_allowed(ctx: EngineCtx, c: ir.Table) -> ir.Value:
    """Bed-days the stay allows (TT 35 Art. 4c(1) as amended): discharge − admission days, + 1 on
    worsening, death or transfer; a same-day stay one day when longer than the short-stay limit."""
    days = c.discharge_day.delta(c.admit_day, unit="day").cast("int64")
    minutes = c.discharged_at.delta(c.admitted_at, unit="minute").cast("int64")
    extra = in_list(ctx, c, c.outcome, "bed.extra_day_outcomes") | in_list(
        ctx, c, c.discharge_type, "bed.extra_day_discharge_types"
    )
    short = ctx.per_epoch(c, lambda d: ibis.literal(ctx.params.integer("bed.short_stay_minutes", d)))
    same_day = ibis.ifelse(minutes > short, 1, 0).cast("int64")
    return ibis.ifelse(days == 0, same_day, days + ibis.ifelse(extra, 1, 0).cast("int64"))


CLAIM_FOR_LINES = (
    "seq",
    "at",
    "epoch",
    "admitted_at",
    "discharged_at",
    "inpatient",
    "visit_type",
    "sex_code",
    "age_days",
    "age_years",
    "card_digit",
    "card_valid_to",
    "grace_days",
    "bed_allowed",
)


def line_view(
    lines: ir.Table, c: ir.Table, ctx: EngineCtx, items: ir.Table | None, prices: ir.Table | None
) -> ir.Table:
    """One row per line with its claim's columns, catalogue entry and within-claim order facts."""
    cl = c.select(*CLAIM_FOR_LINES).rename(j_seq="seq")
    ln = lines.join(cl, lines.seq == cl.j_seq).drop("j_seq")
    ln = ln.mutate(ordered_day=ln.ordered_at.date(), expiry_limit=ln.card_valid_to.add(ln.grace_days.as_interval("D")))
    if items is not None and prices is not None:
        it = items.select(
            cat_code=items.code,
            cat_sex=items.sex,
            cat_min_age=items.min_age,
            cat_max_age=items.max_age,
            cat_part_of=items.part_of,
            cat_listed_rate=items.item_rate,
        )
        ln = ln.left_join(it, ln.item_code == it.cat_code)
        pl = prices.select(p_facility=prices.facility, p_code=prices.item_code, cat_price=prices.price)
        ln = ln.left_join(pl, [ln.facility == pl.p_facility, ln.item_code == pl.p_code])
        ln = ln.mutate(cat_found=ln.cat_code.notnull(), cat_in_list=ln.p_code.notnull()).drop(
            "cat_code",
            "p_facility",
            "p_code",
        )
        # From the input lines (keys of the claim), not from this view: the view is not computed twice.
        # Components (few) looked up among their claim's lines: no distinct over every line.
        parts = lines.join(items.filter(items.part_of.notnull()), lines.item_code == items.code)
        parts = parts.select(pt_lid=parts.lid, pt_seq=parts.seq, pt_parent=parts.part_of)
        billed_codes = lines.select(o_seq=lines.seq, o_code=lines.item_code)
        billed = parts.join(billed_codes, [parts.pt_seq == billed_codes.o_seq, parts.pt_parent == billed_codes.o_code])
        billed = billed.select(pb_lid=billed.pt_lid, pb_seq=billed.pt_seq).distinct()
        ln = ln.left_join(billed, [ln.lid == billed.pb_lid, ln.seq == billed.pb_seq])
        ln = ln.mutate(parent_billed=ln.pb_lid.notnull()).drop("pb_lid", "pb_seq")
        listed = ln.cat_listed_rate.coalesce(ln.item_rate.coalesce(100))
    else:
        listed = ln.item_rate.coalesce(100)
    ln = ln.mutate(is_exam=ln.cost_group == EXAM_GROUP, is_bed=ln.cost_group.isin(BED_GROUPS))
    ln = _places(ln, lines)
    ln = ln.mutate(
        expected_service_rate=ibis.ifelse(
            ln.is_exam, ctx.per_epoch(ln, lambda d: _consultation_rate(ctx, ln, d)), ln.service_rate.coalesce(100)
        ),
        expected_item_rate=ibis.ifelse(
            in_list(ctx, ln, ln.cost_group, "items.percentage_paid_groups")
            & ~in_list(ctx, ln, ln.card_digit, "benefit.levels_without_item_limits"),
            listed,
            100,
        ).cast("int32"),
        expected_total=(
            ln.quantity.cast(DEC)
            * ln.unit_price.cast(DEC)
            * ln.service_rate.coalesce(100).cast(DEC)
            * ibis.literal(0.01, DEC)
        ).round(2),
        balance=ln.total
        - ln.outside.coalesce(0)
        - ln.copay.coalesce(0)
        - ln.fund.coalesce(0)
        - ln.other_sources.coalesce(0),
    )
    return _priced(ln, ctx, items is not None and prices is not None)


def _priced(ln: ir.Table, ctx: EngineCtx, catalogue: bool) -> ir.Table:
    """What a line is worth before any finding: its total at the approved price and the rates the
    rules allow, the part in the fund's scope, and other sources (never above the total). The
    amounts step applies the findings and the claim's benefit rate to these."""
    price = ln.unit_price.cast(DEC)
    if catalogue:
        price = ibis.ifelse(ln.cat_in_list & (ln.cat_price.cast(DEC) < price), ln.cat_price.cast(DEC), price)
    insured_price = ibis.least(ln.insured_price.cast(DEC), price)
    in_scope = (ln.scope == "1") | (
        (ln.scope == "3") & in_list(ctx, ln, ln.card_digit, "benefit.levels_paying_outside_scope")
    ).fill_null(False)
    q, sr, ir_ = ln.quantity.cast(DEC), ln.expected_service_rate.cast(DEC), ln.expected_item_rate.cast(DEC)
    pct, pct2 = ibis.literal(0.01, DEC), ibis.literal(0.0001, DEC)
    ln = ln.mutate(
        a_total=(q * price * sr * pct).round(2).cast(M2),
        a_insured=ibis.ifelse(in_scope, (q * insured_price * ir_ * sr * pct2).round(2), 0).cast(M2),
    )
    return ln.mutate(a_other=ibis.least(ln.other_sources.coalesce(0).cast(M2), ln.a_total))


def _places(ln: ir.Table, lines: ir.Table) -> ir.Table:
    """A line's place among its claim's lines: its rank among the day's consultations, the bed-days
    up to it, its rank among identical lines. Each window sorts a narrow projection of the input
    lines (the rows it needs, the columns it orders by) and is joined back by the line's id: a
    window over the wide view would carry every column through its sort. A line is one (id, claim)
    pair: a claim sent twice within the input has its lines twice."""
    order = ("ordered_at", "table", "line_no")
    ex = lines.filter(lines.cost_group == EXAM_GROUP)
    ex = ex.select(
        e_lid=ex.lid,
        e_seq=ex.seq,
        exam_rank=ibis.row_number().over(group_by=[ex.seq, ex.ordered_at.date()], order_by=[ex[k] for k in order]) + 1,
    )
    bd = lines.filter(lines.cost_group.isin(BED_GROUPS))
    bd = bd.select(
        b_lid=bd.lid,
        b_seq=bd.seq,
        bed_cum=bd.quantity.sum().over(ibis.window(group_by=[bd.seq], order_by=[bd[k] for k in order], rows=(None, 0))),
    )
    key = [lines[k] for k in ("seq", "table", "item_code", "ordered_at", "quantity", "unit_price")]
    du = lines.select(
        d_lid=lines.lid, d_seq=lines.seq, dup_rank=ibis.row_number().over(group_by=key, order_by=[lines.line_no]) + 1
    )
    ln = ln.left_join(ex, [ln.lid == ex.e_lid, ln.seq == ex.e_seq]).drop("e_lid", "e_seq")
    ln = ln.left_join(bd, [ln.lid == bd.b_lid, ln.seq == bd.b_seq]).drop("b_lid", "b_seq")
    return ln.left_join(du, [ln.lid == du.d_lid, ln.seq == du.d_seq]).drop("d_lid", "d_seq")


def _consultation_rate(ctx: EngineCtx, ln: ir.Table, d: date) -> ir.Value:
    rates = [int(r) for r in ctx.params.percent_list("items.consultation_rates", d)]
    branches = [(ln.exam_rank == i + 1, r) for i, r in enumerate(rates[:-1])]
    return ibis.cases(*branches, else_=rates[-1]).cast("int32")
