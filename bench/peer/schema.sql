-- The peer's tables: the same plan tree planapi serves (plan -> priorities -> outcomes -> KPIs,
-- each KPI with its baseline and targets), as a hand-written relational schema would hold it.
-- Loaded into its own schema (bench/peer.py sets search_path) with the rows planapi's grown
-- Baku plan has; PostGraphile v4 introspects it and serves it (flags in bench/peer.py).
CREATE TABLE plans (
    id text PRIMARY KEY,
    title text NOT NULL,
    version integer NOT NULL
);
CREATE TABLE priorities (
    id text PRIMARY KEY,
    plan_id text NOT NULL REFERENCES plans (id),
    position integer NOT NULL,
    code text,
    title text NOT NULL
);
CREATE INDEX ON priorities (plan_id, position);
CREATE TABLE outcomes (
    id text PRIMARY KEY,
    priority_id text NOT NULL REFERENCES priorities (id),
    position integer NOT NULL,
    code text,
    title text NOT NULL
);
CREATE INDEX ON outcomes (priority_id, position);
CREATE TABLE kpis (
    id text PRIMARY KEY,
    outcome_id text NOT NULL REFERENCES outcomes (id),
    position integer NOT NULL,
    code text,
    title text NOT NULL,
    unit text,
    baseline_period text,
    baseline_value numeric
);
CREATE INDEX ON kpis (outcome_id, position);
CREATE TABLE kpi_targets (
    kpi_id text NOT NULL REFERENCES kpis (id),
    period text NOT NULL,
    value numeric NOT NULL,
    PRIMARY KEY (kpi_id, period)
);
