"""Per-claim evidence for the abuse detectors, computed over an assessment run's folder.

``bhyt assess --out DIR`` writes each claim's decision beside what it says about the visit
(``claims.parquet``) and each line with its item and amounts (``lines.parquet``); this module turns
them into one row of numbers per claim, in SQL over DuckDB (out of core, both cores):

- the claim against its peers (the same three-character diagnosis, in- or outpatient): cost, length
  of stay, items rarely billed for that diagnosis, drug quantities against the item's usual quantity;
- the patient's other claims (by card): the same card at another facility within hours, overlapping
  stays, exact copies, referral loops between two facilities, the same complaint seen again and
  again, a patient seen nowhere else;
- the facility against facilities of its level in its region and against its own earlier months;
- what the assessment already found (rule families).

Every feature is a number a reviewer can read: :data:`FEATURES` names and explains each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from bhyt.errors import BhytError
from bhyt.policy.params import ParameterSet, default_parameters


class DetectInputError(BhytError, ValueError):
    """An assessment folder that ``bhyt detect`` cannot read."""

    code = "fraud.input"


@dataclass(frozen=True)
class Feature:
    name: str
    text: str  # what a high value means, in a reviewer's words (English)
    text_vi: str


FEATURES: tuple[Feature, ...] = (
    Feature("log_cost", "a costly claim", "chi phí đề nghị cao"),
    Feature("cost_z_dx", "costs more than peers with the same diagnosis", "chi phí cao hơn các ca cùng chẩn đoán"),
    Feature("n_lines", "many billed lines", "nhiều dòng chi phí"),
    Feature("lines_z_dx", "more services than peers with the same diagnosis", "nhiều dịch vụ hơn ca cùng chẩn đoán"),
    Feature("inpatient", "an inpatient stay", "điều trị nội trú"),
    Feature("los_days", "a long stay", "thời gian nằm viện dài"),
    Feature("los_ratio_dx", "a stay longer than usual for the diagnosis", "nằm viện dài hơn thường lệ của chẩn đoán"),
    Feature("bed_days", "many bed-days billed", "nhiều ngày giường"),
    Feature(
        "no_diagnostics", "an inpatient stay with no test or imaging", "nội trú không xét nghiệm, chẩn đoán hình ảnh"
    ),
    Feature(
        "rare_item_share",
        "items rarely billed for this diagnosis make much of the cost",
        "dịch vụ hiếm gặp với chẩn đoán chiếm phần lớn chi phí",
    ),
    Feature("rare_items", "items rarely billed for this diagnosis", "dịch vụ hiếm gặp với chẩn đoán"),
    Feature("drug_qty_ratio", "a drug quantity far above its usual quantity", "số lượng thuốc vượt xa thường lệ"),
    Feature("rare_drug_share", "costly drugs unusual for the diagnosis", "thuốc đắt tiền bất thường với chẩn đoán"),
    Feature("age", "the patient's age", "tuổi người bệnh"),
    Feature("card_claims", "the card's claims in the period", "số hồ sơ của thẻ trong kỳ"),
    Feature("card_facilities", "facilities the card was used at", "số cơ sở thẻ được sử dụng"),
    Feature("only_claim", "the patient is seen nowhere else", "người bệnh không có lần khám nào khác"),
    Feature(
        "away",
        "the facility is in another province than the card's registration",
        "cơ sở ở tỉnh khác nơi đăng ký ban đầu",
    ),
    Feature(
        "same_day_elsewhere",
        "the card was used earlier the same day at another facility, with no referral between them",
        "thẻ đã được dùng ở cơ sở khác sớm hơn trong ngày",
    ),
    Feature(
        "hours_after_elsewhere",
        "hours since the card was used at another facility (short is suspect)",
        "số giờ kể từ lần dùng thẻ ở cơ sở khác",
    ),
    Feature(
        "overlap_later",
        "an inpatient stay overlapping an earlier stay at another facility",
        "đợt nội trú trùng thời gian với đợt ở cơ sở khác",
    ),
    Feature("after_death", "a visit after the card's holder was recorded dead", "khám sau khi người bệnh đã tử vong"),
    Feature("copy_later", "an exact copy of an earlier claim", "bản sao của hồ sơ đã gửi"),
    Feature("referral_loop", "referred back and forth between two facilities", "chuyển tuyến qua lại giữa hai cơ sở"),
    Feature(
        "repeat_30d",
        "earlier visits for the same complaint at the same facility within 30 days",
        "cùng bệnh khám lại tại cùng cơ sở trong 30 ngày",
    ),
    Feature("late_in_month", "admitted in the last ten days of a month", "vào viện mười ngày cuối tháng"),
    Feature(
        "fac_cost_z",
        "the facility's cost per visit against facilities of its level in its region",
        "chi phí bình quân của cơ sở so với cơ sở cùng hạng trong vùng",
    ),
    Feature(
        "fac_lines_z",
        "the facility's services per visit against facilities of its level in its region",
        "số dịch vụ bình quân của cơ sở so với cơ sở cùng hạng trong vùng",
    ),
    Feature(
        "fac_admission_z",
        "the facility's admission rate against facilities of its level in its region",
        "tỷ lệ nhập viện của cơ sở so với cơ sở cùng hạng trong vùng",
    ),
    Feature(
        "fac_month_change",
        "the facility's services per visit this month against its quietest month",
        "số dịch vụ bình quân tháng này so với tháng thấp nhất của cơ sở",
    ),
    Feature(
        "padding_share",
        "services the facility started adding to most visits from a month on",
        "dịch vụ cơ sở bắt đầu chỉ định cho hầu hết lượt khám từ một tháng",
    ),
    Feature("rule_rejects", "assessment rules that rejected the claim or a line", "quy tắc giám định từ chối"),
    Feature("rule_reviews", "assessment rules that sent the claim to review", "quy tắc giám định chuyển xem xét"),
    Feature("rule_card", "a card not valid on the service dates", "thẻ không có giá trị khi khám chữa bệnh"),
    Feature("rule_route", "a route code the registration does not support", "mã đối tượng tuyến không phù hợp"),
    Feature("rule_duplicate", "a duplicate claim found by the assessment", "hồ sơ trùng (giám định)"),
    Feature("rule_overlap", "an overlapping stay found by the assessment", "trùng thời gian điều trị (giám định)"),
    Feature("rule_price", "a price above the approved price", "giá cao hơn giá được phê duyệt"),
    Feature("rule_sex_age", "a service the patient's sex or age rules out", "dịch vụ không phù hợp giới, tuổi"),
    Feature("rule_unbundling", "a panel's part billed with the panel", "tách dịch vụ đã có trong gói"),
    Feature("rule_bed", "bed-days beyond what the stay allows", "ngày giường vượt thời gian điều trị"),
    Feature("reduction_share", "the share of the claim the assessment did not pay", "tỷ lệ chi phí giám định cắt giảm"),
)
NAMES = tuple(f.name for f in FEATURES)
BY_NAME = {f.name: f for f in FEATURES}

RARE_SHARE = 0.02  # an item billed on fewer than 2% of a diagnosis's claims is rare for it
MIN_PEERS = 20  # fewer peers than this: the peer comparison says nothing (0)


MIN_REGION_PEERS = 5
# Another facility with no referral paper between the two visits.
ELSEWHERE = (
    "b.facility <> a.facility AND a.referred_from IS DISTINCT FROM b.facility"
    " AND b.referred_to IS DISTINCT FROM a.facility"
)
# Regions by the province digits of the facility code (GSO order: the north below 38, the centre and
# the Central Highlands to 68, the south from 70).
REGION = "CASE WHEN left(facility, 2) < '38' THEN 'north' WHEN left(facility, 2) < '70' THEN 'centre' ELSE 'south' END"


def _peer_z(col: str) -> str:
    """A facility's robust z-score on ``col`` against its peers: median and scaled MAD, the spread taken
    as at least 2% of the median (peers that all bill alike would otherwise make every difference
    infinite); none when the peers are all zero."""

    def z(w: str) -> str:
        spread = f"greatest(1.4826 * mad(f.{col}) OVER {w}, 0.02 * abs(median(f.{col}) OVER {w}))"
        return f"(f.{col} - median(f.{col}) OVER {w}) / nullif({spread}, 0)"

    return f"CASE WHEN count(*) OVER region >= {MIN_REGION_PEERS} THEN {z('region')} ELSE {z('level')} END"


def _rule(families: str) -> str:
    return f"CAST(len(list_filter(rules, lambda r: {families})) > 0 AS INTEGER)"


SQL = f"""
CREATE OR REPLACE TEMP TABLE c AS
SELECT seq, facility, claim_id, card, status, claimed_fund, assessed_fund, rules,
       coalesce(main_diagnosis, '') AS dx, left(coalesce(main_diagnosis, ''), 3) AS dx3,
       coalesce(inpatient, false) AS inpatient, admitted_at, discharged_at, period,
       coalesce(n_lines, 0) AS n_lines, CAST(outcome AS VARCHAR) AS outcome, registered_facility, referred_from,
       referred_to, facility_level,
       date_diff('day', CAST(admitted_at AS DATE), CAST(discharged_at AS DATE)) AS los_days,
       -- whole years on the day of admission (as the assessment's views count them)
       (CAST(strftime(admitted_at, '%Y%m%d') AS INTEGER) - CAST(strftime(birth_date, '%Y%m%d') AS INTEGER)) // 10000
           AS age
FROM read_parquet(?) WHERE status <> 'invalid';

CREATE OR REPLACE TEMP TABLE l AS
SELECT l.seq, coalesce(l.item_code, '') AS item_code, l.cost_group, CAST(l.quantity AS DOUBLE) AS qty,
       CAST(l.total AS DOUBLE) AS amount,
       c.dx3, c.inpatient
FROM read_parquet(?) l JOIN c USING (seq);

-- Items against the diagnosis: how often each is billed for it, and its usual quantity.
CREATE OR REPLACE TEMP TABLE dx_n AS
SELECT dx3, inpatient, count(*) AS n, median(n_lines) AS med_lines,
       median(ln(1 + claimed_fund)) AS med_cost, mad(ln(1 + claimed_fund)) AS mad_cost,
       mad(CAST(n_lines AS DOUBLE)) AS mad_lines,
       median(CASE WHEN inpatient THEN los_days END) AS med_los
FROM c GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE item_dx AS
SELECT dx3, inpatient, item_code, count(DISTINCT seq) AS claims, median(qty) AS med_qty
FROM l GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE line_f AS
SELECT l.seq,
       sum(CASE WHEN i.claims < {RARE_SHARE} * d.n AND d.n >= {MIN_PEERS} THEN l.amount ELSE 0 END) AS rare_amount,
       count(CASE WHEN i.claims < {RARE_SHARE} * d.n AND d.n >= {MIN_PEERS} THEN 1 END) AS rare_items,
       sum(CASE WHEN l.cost_group IN ('4', '5', '6') AND i.claims < 5 * {RARE_SHARE} * d.n AND d.n >= {MIN_PEERS}
                THEN l.amount ELSE 0 END) AS rare_drug_amount,
       max(CASE WHEN l.cost_group IN ('4', '5', '6') AND i.med_qty > 0 AND i.claims >= {MIN_PEERS}
                THEN l.qty / i.med_qty END) AS drug_qty_ratio,
       sum(CASE WHEN l.cost_group IN ('14', '15', '16') THEN l.qty ELSE 0 END) AS bed_days,
       count(CASE WHEN l.cost_group IN ('1', '2', '3') THEN 1 END) AS diagnostics,
       sum(l.amount) AS line_amount
FROM l JOIN dx_n d USING (dx3, inpatient) JOIN item_dx i USING (dx3, inpatient, item_code)
GROUP BY l.seq;

-- The patient's other claims (by card).
CREATE OR REPLACE TEMP TABLE card_f AS
SELECT card, count(*) AS card_claims, count(DISTINCT facility) AS card_facilities FROM c GROUP BY card;
-- "Elsewhere": another facility with no referral between the two visits (a referral the same day is care).
CREATE OR REPLACE TEMP TABLE pair AS
SELECT a.seq,
       max(CASE WHEN {ELSEWHERE} AND CAST(b.admitted_at AS DATE) = CAST(a.admitted_at AS DATE)
                 AND (b.admitted_at < a.admitted_at OR (b.admitted_at = a.admitted_at AND b.seq < a.seq))
                THEN 1 ELSE 0 END) AS same_day_elsewhere,
       min(CASE WHEN {ELSEWHERE} AND b.admitted_at <= a.admitted_at
                THEN date_diff('minute', b.admitted_at, a.admitted_at) / 60.0 END) AS hours_after_elsewhere,
       max(CASE WHEN a.inpatient AND b.inpatient AND b.facility <> a.facility
                 AND b.admitted_at < a.discharged_at AND a.admitted_at < b.discharged_at
                 AND (b.admitted_at < a.admitted_at OR (b.admitted_at = a.admitted_at AND b.seq < a.seq))
                THEN 1 ELSE 0 END) AS overlap_later,
       max(CASE WHEN list_contains($deaths, b.outcome) AND b.discharged_at < a.admitted_at
                THEN 1 ELSE 0 END) AS after_death,
       max(CASE WHEN b.facility = a.facility AND b.admitted_at = a.admitted_at AND b.dx = a.dx
                 AND b.claimed_fund = a.claimed_fund AND b.seq < a.seq THEN 1 ELSE 0 END) AS copy_later,
       max(CASE WHEN a.referred_from IS NOT NULL AND b.facility = a.referred_from AND b.referred_from = a.facility
                 AND abs(date_diff('day', b.admitted_at, a.admitted_at)) <= 30 THEN 1 ELSE 0 END) AS referral_loop,
       -- earlier visits only: the first visit of a series is care, the ones after it are the question
       count(CASE WHEN b.facility = a.facility AND b.dx3 = a.dx3 AND NOT a.inpatient
                   AND (b.admitted_at < a.admitted_at OR (b.admitted_at = a.admitted_at AND b.seq < a.seq))
                   AND date_diff('day', b.admitted_at, a.admitted_at) <= 30 THEN 1 END) AS repeat_30d,
       -- the claims involved, for the reviewer: the card's other claims within 30 days
       list(DISTINCT b.facility || '/' || b.claim_id ORDER BY b.facility || '/' || b.claim_id)
           FILTER (WHERE abs(date_diff('day', b.admitted_at, a.admitted_at)) <= 30) AS related
FROM c a JOIN c b ON a.card = b.card AND a.seq <> b.seq
GROUP BY a.seq;

-- Facilities against their kind, and against their own months.
CREATE OR REPLACE TEMP TABLE fac AS
SELECT facility, any_value(facility_level) AS level, count(*) AS claims, avg(ln(1 + claimed_fund)) AS cost,
       avg(n_lines) AS lines, avg(CAST(inpatient AS INTEGER)) AS admission, {REGION} AS region
FROM c GROUP BY facility;
-- Peers: facilities of the same level in the same region, or of the same level anywhere when the
-- region has fewer than {MIN_REGION_PEERS} of them.
CREATE OR REPLACE TEMP TABLE fac_z AS
SELECT f.facility, {_peer_z("cost")} AS fac_cost_z, {_peer_z("lines")} AS fac_lines_z,
       {_peer_z("admission")} AS fac_admission_z
FROM fac f
WINDOW level AS (PARTITION BY coalesce(f.level, '')), region AS (PARTITION BY coalesce(f.level, ''), f.region);
CREATE OR REPLACE TEMP TABLE fac_month AS
SELECT facility, period, avg(n_lines) AS lines, count(*) AS claims FROM c GROUP BY ALL;
-- The facility's quietest month (of those with enough claims): its own floor for services per visit.
CREATE OR REPLACE TEMP TABLE fac_usual AS
SELECT facility, min(lines) AS usual_lines FROM fac_month WHERE claims >= {MIN_PEERS} GROUP BY facility;
-- A step change: an item a facility bills on few of its visits in its earlier months and on most of
-- them from some month on. Each (facility, item) series is split at every month; the first split
-- where the share before is under 15% and the share from then on is at least 40 points higher is
-- where the padding starts.
CREATE OR REPLACE TEMP TABLE fac_item_month AS
SELECT fm.facility, fm.period, i.item_code, coalesce(m.claims, 0) / fm.claims AS share
FROM fac_month fm
JOIN (SELECT DISTINCT c.facility, l.item_code FROM l JOIN c USING (seq)) i USING (facility)
LEFT JOIN (SELECT c.facility, c.period, l.item_code, count(DISTINCT l.seq) AS claims
           FROM l JOIN c USING (seq) GROUP BY ALL) m USING (facility, period, item_code)
WHERE fm.claims >= {MIN_PEERS};
CREATE OR REPLACE TEMP TABLE step AS
SELECT facility, item_code, min(period) AS since
FROM (
    SELECT facility, item_code, period,
           avg(share) OVER (PARTITION BY facility, item_code ORDER BY period
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
           count(*) OVER (PARTITION BY facility, item_code ORDER BY period
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS months_before,
           avg(share) OVER (PARTITION BY facility, item_code ORDER BY period
                            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS after
    FROM fac_item_month
)
WHERE months_before >= 2 AND before < 0.15 AND after - before >= 0.4
GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE pad_f AS
SELECT l.seq, sum(l.amount) AS pad_amount
FROM l JOIN c USING (seq) JOIN step s ON s.facility = c.facility AND s.item_code = l.item_code AND c.period >= s.since
GROUP BY l.seq;

CREATE OR REPLACE TEMP TABLE features AS
SELECT c.seq, c.facility, c.claim_id, c.card, c.status, c.claimed_fund, c.assessed_fund, c.admitted_at,
       c.facility_level, c.period, c.dx, coalesce(p.related, []) AS related,
       ln(1 + c.claimed_fund) AS log_cost,
       CASE WHEN d.n >= {MIN_PEERS}
            THEN (ln(1 + c.claimed_fund) - d.med_cost) / greatest(1.4826 * d.mad_cost, 0.1) ELSE 0 END AS cost_z_dx,
       c.n_lines,
       CASE WHEN d.n >= {MIN_PEERS}
            THEN (c.n_lines - d.med_lines) / greatest(1.4826 * d.mad_lines, 1) ELSE 0 END AS lines_z_dx,
       CAST(c.inpatient AS INTEGER) AS inpatient,
       c.los_days,
       CASE WHEN c.inpatient AND d.n >= {MIN_PEERS} AND d.med_los > 0 THEN c.los_days / d.med_los ELSE 0 END
           AS los_ratio_dx,
       coalesce(lf.bed_days, 0) AS bed_days,
       CAST(c.inpatient AND coalesce(lf.diagnostics, 0) = 0 AS INTEGER) AS no_diagnostics,
       coalesce(lf.rare_amount / nullif(lf.line_amount, 0), 0) AS rare_item_share,
       coalesce(lf.rare_items, 0) AS rare_items,
       coalesce(lf.drug_qty_ratio, 0) AS drug_qty_ratio,
       coalesce(lf.rare_drug_amount / nullif(lf.line_amount, 0), 0) AS rare_drug_share,
       coalesce(c.age, -1) AS age,
       coalesce(cf.card_claims, 1) AS card_claims,
       coalesce(cf.card_facilities, 1) AS card_facilities,
       CAST(coalesce(cf.card_claims, 1) = 1 AS INTEGER) AS only_claim,
       coalesce(CAST(left(c.registered_facility, 2) <> left(c.facility, 2) AS INTEGER), 0) AS away,
       coalesce(p.same_day_elsewhere, 0) AS same_day_elsewhere,
       least(coalesce(p.hours_after_elsewhere, 720), 720) AS hours_after_elsewhere,
       coalesce(p.overlap_later, 0) AS overlap_later,
       coalesce(p.copy_later, 0) AS copy_later,
       coalesce(p.after_death, 0) AS after_death,
       coalesce(p.referral_loop, 0) AS referral_loop,
       coalesce(p.repeat_30d, 0) AS repeat_30d,
       CAST(day(c.admitted_at) > 20 AS INTEGER) AS late_in_month,
       coalesce(fz.fac_cost_z, 0) AS fac_cost_z,
       coalesce(fz.fac_lines_z, 0) AS fac_lines_z,
       coalesce(fz.fac_admission_z, 0) AS fac_admission_z,
       coalesce(fm.lines / nullif(fu.usual_lines, 0), 1) AS fac_month_change,
       coalesce(pf.pad_amount / nullif(lf.line_amount, 0), 0) AS padding_share,
       len(list_intersect(c.rules, $rejecting)) AS rule_rejects,
       len(list_intersect(c.rules, $reviewing)) AS rule_reviews,
       {_rule("r LIKE 'card.%'")} AS rule_card,
       {_rule("r LIKE 'route.%'")} AS rule_route,
       {_rule("r LIKE 'claim.duplicate%'")} AS rule_duplicate,
       {_rule("r LIKE '%overlap%'")} AS rule_overlap,
       {_rule("r LIKE 'price.%'")} AS rule_price,
       {_rule("r LIKE 'service.sex%' OR r LIKE 'service.age%'")} AS rule_sex_age,
       {_rule("r LIKE 'unbundling.%'")} AS rule_unbundling,
       {_rule("r LIKE 'bed.%'")} AS rule_bed,
       CASE WHEN c.claimed_fund > 0 THEN greatest(c.claimed_fund - c.assessed_fund, 0) / c.claimed_fund ELSE 0 END
           AS reduction_share
FROM c
LEFT JOIN dx_n d USING (dx3, inpatient)
LEFT JOIN line_f lf USING (seq)
LEFT JOIN card_f cf USING (card)
LEFT JOIN pair p USING (seq)
LEFT JOIN fac_z fz USING (facility)
LEFT JOIN fac_month fm USING (facility, period)
LEFT JOIN fac_usual fu USING (facility)
LEFT JOIN pad_f pf USING (seq)
ORDER BY c.seq;
"""


def _list(codes: list[str]) -> str:
    """A SQL list literal of rule codes (codes are dotted identifiers: nothing to escape)."""
    assert all(c.replace(".", "").replace("_", "").isalnum() for c in codes)
    return "[" + ", ".join(f"'{c}'" for c in codes) + "]::VARCHAR[]"


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def compute(run: Path, con: duckdb.DuckDBPyConnection | None = None, params: ParameterSet | None = None) -> pa.Table:
    """The feature table of an assessment run's folder: key columns, then :data:`NAMES`, by ``seq``.
    Death outcomes are the codes in force on the run's last admission day (the list only grows)."""
    for name in ("claims.parquet", "lines.parquet"):
        if not (run / name).is_file():
            raise DetectInputError(f"{run}: no {name}; give the --out folder of `bhyt assess`")
    con = con or connect()
    from bhyt.assessment.catalogue import ALL
    from bhyt.assessment.rules import Severity

    heavy = (Severity.REJECT_CLAIM, Severity.REJECT_LINE, Severity.ADJUST)
    codes = {
        "$rejecting": _list([r.code for r in ALL if r.severity in heavy]),
        "$reviewing": _list([r.code for r in ALL if r.severity is Severity.REVIEW]),
    }
    sql = SQL
    for key, value in codes.items():
        sql = sql.replace(key, value)
    try:
        statements = [s for s in sql.split(";\n") if s.strip()]
        con.execute(statements[0], [str(run / "claims.parquet")])
        con.execute(statements[1], [str(run / "lines.parquet")])
        last = con.sql("SELECT CAST(max(admitted_at) AS DATE) FROM c").fetchall()[0][0]
        deaths = (params or default_parameters()).code_list("codes.death_outcomes", last) if last else ()
        for s in statements[2:]:
            con.execute(s.replace("$deaths", _list(list(deaths))))
        return con.sql("SELECT * FROM features").to_arrow_table()
    except duckdb.Error as exc:
        raise DetectInputError(f"{run}: not an assessment run this version can read ({exc})") from None
