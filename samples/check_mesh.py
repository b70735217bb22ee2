#!/usr/bin/env python3
"""Validate samples/mesh.ndjson and recompute the facts and closure results quoted in README.md.

Standard library only; uses jsonschema (+ referencing) when importable to validate every event
against the core OpenLineage 2-0-2 schema and every standard facet against its local schema
(/work/shared/openlineage/spec, override with OL_SPEC_DIR). Exit status 1 on any problem.

This is a *reference* interpretation of the events, written independently of the store, so its
output can seed golden tests. Semantics (documented in README.md, "Closure semantics"):
  * column lineage of an output dataset = the columnLineage facet of the latest event (by
    eventTime, ties by file order) that carries one for that dataset, optionally as of a time;
  * an inputFields entry gives one edge per transformation (none/empty -> one untyped edge);
    legacy transformationType IDENTITY -> DIRECT/IDENTITY, MASKED -> DIRECT + masking;
  * a `dataset` array entry gives edges to every field key of that facet;
  * symlink aliasing (optional) maps identifiers listed in any symlinks facet to the dataset
    that declares them.

Usage: python3 samples/check_mesh.py [mesh.ndjson]
"""

import datetime as dt
import json
import os
import sys
import uuid
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_DIR = os.environ.get("OL_SPEC_DIR", "/work/shared/openlineage/spec")
PROBLEMS = []


def problem(msg):
    PROBLEMS.append(msg)


def parse_time(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------------
# Structural validation
# ------------------------------------------------------------------------------------------

def load(path):
    events = []
    with open(path, encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            try:
                ev = json.loads(line)
            except ValueError as e:
                problem(f"line {no}: invalid JSON: {e}")
                continue
            events.append((no, ev))
    return events


def check_required(events):
    for no, ev in events:
        for k in ("eventTime", "producer", "schemaURL"):
            if not isinstance(ev.get(k), str):
                problem(f"line {no}: missing {k}")
        try:
            t = parse_time(ev["eventTime"])
            if t.tzinfo is None:
                problem(f"line {no}: naive eventTime")
        except (KeyError, ValueError):
            problem(f"line {no}: bad eventTime")
        try:
            uuid.UUID(ev["run"]["runId"])
        except (KeyError, ValueError, TypeError):
            problem(f"line {no}: missing/invalid run.runId")
        if not (ev.get("job", {}).get("namespace") and ev.get("job", {}).get("name")):
            problem(f"line {no}: missing job.namespace/name")
        facet_maps = [ev["run"].get("facets", {}), ev["job"].get("facets", {})]
        for d in ev.get("inputs", []) + ev.get("outputs", []):
            facet_maps += [d.get("facets", {}), d.get("inputFacets", {}), d.get("outputFacets", {})]
        for m in facet_maps:
            for key, f in m.items():
                if not (isinstance(f, dict) and f.get("_producer") and f.get("_schemaURL")):
                    problem(f"line {no}: facet {key} lacks _producer/_schemaURL")


def check_schema(events):
    try:
        import jsonschema
        from referencing import Registry, Resource
    except ImportError:
        print("jsonschema not importable: schema validation skipped (required fields checked)")
        return
    with open(os.path.join(SPEC_DIR, "OpenLineage.json")) as fh:
        core = json.load(fh)
    resources = [(core["$id"], Resource.from_contents(core))]
    facet_schemas = {}  # facet key -> (schema $id, property schema)
    fdir = os.path.join(SPEC_DIR, "facets")
    for fn in sorted(os.listdir(fdir)):
        with open(os.path.join(fdir, fn)) as fh:
            s = json.load(fh)
        resources.append((s["$id"], Resource.from_contents(s)))
        for key in s.get("properties", {}):
            facet_schemas.setdefault(key, []).append(s)
    registry = Registry().with_resources(resources)
    cls = jsonschema.validators.validator_for(core)
    core_v = cls(core, registry=registry)
    facet_v = {}
    for key, schemas in facet_schemas.items():
        # several files declare `tags` (dataset/job/run) and `ownership` (dataset/job)
        facet_v[key] = {s["$id"]: cls({"$ref": s["$id"] + "#/properties/" + key}, registry=registry)
                        for s in schemas}
    n_facets = 0
    for no, ev in events:
        for err in core_v.iter_errors(ev):
            problem(f"line {no}: core schema: {err.message[:200]}")
        maps = [("run", ev["run"].get("facets", {})), ("job", ev["job"].get("facets", {}))]
        for d in ev.get("inputs", []) + ev.get("outputs", []):
            maps += [("dataset", d.get("facets", {})), ("input", d.get("inputFacets", {})),
                     ("output", d.get("outputFacets", {}))]
        for where, m in maps:
            for key, f in m.items():
                if key not in facet_v:
                    continue
                candidates = facet_v[key]
                if len(candidates) > 1:  # pick by entity (TagsDatasetFacet vs TagsJobFacet ...)
                    want = {"run": "Run", "job": "Job", "dataset": "Dataset"}.get(where, "Dataset")
                    candidates = {k: v for k, v in candidates.items() if want in k.rsplit("/", 1)[-1]}
                n_facets += 1
                for sid, v in candidates.items():
                    for err in v.iter_errors(f):
                        problem(f"line {no}: {where} facet {key} vs {sid}: {err.message[:200]}")
    print(f"jsonschema: {len(events)} events valid against core 2-0-2; {n_facets} standard facets checked")


# ------------------------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------------------------

def check_runs(events):
    runs = defaultdict(list)
    for no, ev in events:
        runs[ev["run"]["runId"]].append((no, ev))
    jobs = set()
    for rid, evs in runs.items():
        jobs_of_run = {(e["job"]["namespace"], e["job"]["name"]) for _, e in evs}
        if len(jobs_of_run) != 1:
            problem(f"run {rid} used by several jobs {jobs_of_run}")
        jobs |= jobs_of_run
        types = sorted(e["eventType"] for _, e in evs)
        if len(types) != 2 or "START" not in types or not ({"COMPLETE", "FAIL"} & set(types)):
            problem(f"run {rid}: events {types}")
        start = [e for _, e in evs if e["eventType"] == "START"][0]
        end = [e for _, e in evs if e["eventType"] != "START"][0]
        if parse_time(start["eventTime"]) >= parse_time(end["eventTime"]):
            problem(f"run {rid}: START not before terminal")
    # file order = event-time order, except documented swaps
    swaps = []
    for (n1, a), (n2, b) in zip(events, events[1:]):
        if parse_time(a["eventTime"]) > parse_time(b["eventTime"]):
            swaps.append((n1, a["job"]["name"], a["eventType"], a["eventTime"], n2, b["eventType"], b["eventTime"]))
    return runs, jobs, swaps


# ------------------------------------------------------------------------------------------
# Lineage model
# ------------------------------------------------------------------------------------------

def legacy_kind(ttype):
    if ttype == "IDENTITY":
        return ("DIRECT", "IDENTITY", False)
    if ttype == "MASKED":
        return ("DIRECT", None, True)
    return (None, None, False)


def cll_edges(out_ns, out_name, facet):
    """Yield (src_col, dst_col, type, subtype, masking, form)."""
    fields = facet.get("fields", {})
    for out_field, spec in fields.items():
        dst = (out_ns, out_name, out_field)
        legacy = "transformationType" in spec
        for inp in spec.get("inputFields", []):
            srcc = (inp["namespace"], inp["name"], inp["field"])
            trs = inp.get("transformations") or []
            if trs:
                for tr in trs:
                    yield srcc, dst, tr.get("type"), tr.get("subtype"), bool(tr.get("masking")), "current"
            elif legacy:
                ty, st, m = legacy_kind(spec["transformationType"])
                yield srcc, dst, ty, st, m, "legacy"
            else:
                yield srcc, dst, None, None, False, "untyped"
    for inp in facet.get("dataset", []) or []:
        srcc = (inp["namespace"], inp["name"], inp["field"])
        for out_field in fields:
            for tr in inp.get("transformations") or [{}]:
                yield srcc, (out_ns, out_name, out_field), tr.get("type"), tr.get("subtype"), \
                    bool(tr.get("masking")), "dataset"


class Model:
    def __init__(self, events, as_of=None):
        self.events = [(no, ev) for no, ev in events
                       if as_of is None or parse_time(ev["eventTime"]) <= as_of]
        latest = {}  # (ns, name) -> (time, line, facet)
        self.symlink_of = {}  # alias identifier -> primary identifier
        self.lifecycle = []
        self.job_io = defaultdict(lambda: (set(), set()))  # job -> (inputs, outputs), union of all runs
        for no, ev in self.events:
            t = parse_time(ev["eventTime"])
            job = (ev["job"]["namespace"], ev["job"]["name"])
            for d in ev.get("inputs", []):
                self.job_io[job][0].add((d["namespace"], d["name"]))
            for d in ev.get("inputs", []) + ev.get("outputs", []):
                for ident in d.get("facets", {}).get("symlinks", {}).get("identifiers", []):
                    self.symlink_of[(ident["namespace"], ident["name"])] = (d["namespace"], d["name"])
            for d in ev.get("outputs", []):
                key = (d["namespace"], d["name"])
                self.job_io[job][1].add(key)
                f = d.get("facets", {})
                if "columnLineage" in f and (key not in latest or (t, no) >= latest[key][:2]):
                    latest[key] = (t, no, f["columnLineage"])
                if "lifecycleStateChange" in f and ev["eventType"] == "COMPLETE":
                    self.lifecycle.append((ev["eventTime"], f["lifecycleStateChange"], key, job))
        self.cll = {k: v[2] for k, v in latest.items()}
        self.edges = []
        for (ns, name), facet in self.cll.items():
            self.edges.extend(cll_edges(ns, name, facet))

    def canon(self, col, aliases):
        if aliases and col[:2] in self.symlink_of:
            return self.symlink_of[col[:2]] + col[2:]
        return col

    def closure(self, start, direction="down", direct_only=False, skip_masked=False, aliases=False):
        adj = defaultdict(set)
        for s, d, ty, st, m, form in self.edges:
            if direct_only and ty != "DIRECT":
                continue
            if skip_masked and m:
                continue
            s, d = self.canon(s, aliases), self.canon(d, aliases)
            if direction == "down":
                adj[s].add(d)
            else:
                adj[d].add(s)
        seen, todo = set(), [self.canon(start, aliases)]
        while todo:
            c = todo.pop()
            for n in adj[c]:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        seen.discard(start)
        return seen

    def dataset_closure(self, start, direction="down", aliases=False):
        adj = defaultdict(set)
        for job, (ins, outs) in self.job_io.items():
            for i in ins:
                for o in outs:
                    i2, o2 = self.canon(i, aliases), self.canon(o, aliases)
                    if direction == "down":
                        adj[i2].add(o2)
                    else:
                        adj[o2].add(i2)
        seen, todo = set(), [start]
        while todo:
            c = todo.pop()
            for n in adj[c]:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen


def fmt_cols(cols):
    return "\n".join(f"      {ns} | {name} | {field}" for ns, name, field in sorted(cols))


def fmt_ds(dss):
    return "\n".join(f"      {ns} | {name}" for ns, name in sorted(dss))


def main(argv):
    path = argv[1] if len(argv) > 1 else os.path.join(HERE, "mesh.ndjson")
    events = load(path)
    check_required(events)
    check_schema(events)
    runs, jobs, swaps = check_runs(events)
    datasets = set()
    for _, ev in events:
        for d in ev.get("inputs", []) + ev.get("outputs", []):
            datasets.add((d["namespace"], d["name"]))
    print(f"{len(events)} events, {len(runs)} runs, {len(jobs)} jobs, {len(datasets)} dataset identifiers, "
          f"{os.path.getsize(path)} bytes")
    print("out-of-order lines:", swaps)

    # coverage of the transformation vocabulary
    m = Model(events)
    all_edges = []
    for _, ev in events:
        for d in ev.get("outputs", []):
            if "columnLineage" in d.get("facets", {}):
                all_edges.extend(cll_edges(d["namespace"], d["name"], d["facets"]["columnLineage"]))
    kinds = sorted({(ty, st) for _, _, ty, st, _, form in all_edges if form in ("current", "dataset")})
    print("subtypes used:", kinds)
    print("forms used:", sorted({form for *_, form in all_edges}))
    print("masked edges:", sorted({(s[2], d[1] + "." + d[2]) for s, d, _, _, mk, _ in all_edges if mk}))
    need = {("DIRECT", x) for x in ("IDENTITY", "TRANSFORMATION", "AGGREGATION")} | \
           {("INDIRECT", x) for x in ("JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL")}
    if need - set(kinds):
        problem(f"subtypes missing: {need - set(kinds)}")
    print("lifecycle changes (COMPLETE events):")
    for when, lc, key, job in m.lifecycle:
        print(f"   {when} {lc} {key} by {job[1]}")
    print("FAIL runs:")
    for rid, evs in runs.items():
        for _, e in evs:
            if e["eventType"] == "FAIL":
                st = [x for _, x in evs if x["eventType"] == "START"][0]
                print(f"   {e['job']['name']} run {rid} START {st['eventTime']} FAIL {e['eventTime']}")

    email = ("postgres://customers-db.prod:5432", "crm.public.customers", "email")
    print("\nQ1 downstream of customers email, all edges (current):")
    print(fmt_cols(m.closure(email)))
    print("Q1b same, not traversing masked edges:")
    print(fmt_cols(m.closure(email, skip_masked=True)))
    c360 = ("looker://acme", "dashboards/customer_360", "email")
    print("Q2 upstream of customer_360.email, all edges:")
    print(fmt_cols(m.closure(c360, "up")))
    print("Q2b upstream of customer_360.email, DIRECT only:")
    print(fmt_cols(m.closure(c360, "up", direct_only=True)))
    amount = ("snowflake://acme-analytics", "analytics.staging.stg_orders", "amount")
    print("Q3 upstream of stg_orders.amount, current:")
    print(fmt_cols(m.closure(amount, "up")))
    before = Model(events, as_of=parse_time("2024-03-05T23:59:59Z"))
    print("Q3b upstream of stg_orders.amount as of 2024-03-05T23:59:59Z:")
    print(fmt_cols(before.closure(amount, "up")))
    tc = ("postgres://orders-db.prod:5432", "orders.public.orders", "total_cents")
    print("Q3c downstream of orders.total_cents, current:")
    print(fmt_cols(m.closure(tc)))
    print("Q3d downstream of orders.total_cents as of 2024-03-05T23:59:59Z:")
    print(fmt_cols(before.closure(tc)))
    fin = ("looker://acme", "dashboards/finance_revenue", "invoiced_amount")
    print("Q4 upstream of finance_revenue.invoiced_amount, no aliasing:")
    print(fmt_cols(m.closure(fin, "up")))
    print("Q4b same with symlink aliasing:")
    print(fmt_cols(m.closure(fin, "up", aliases=True)))
    print("Q5 dataset-level downstream of crm.public.customers (job I/O, all runs):")
    print(fmt_ds(m.dataset_closure(("postgres://customers-db.prod:5432", "crm.public.customers"))))
    print("Q6 dataset-level upstream of dashboards/finance_revenue, no aliasing / with aliasing:")
    print(fmt_ds(m.dataset_closure(("looker://acme", "dashboards/finance_revenue"), "up")))
    print("   --")
    print(fmt_ds(m.dataset_closure(("looker://acme", "dashboards/finance_revenue"), "up", aliases=True)))
    sp = ("bigquery", "acme-marketing.staging.stg_ad_spend", "spend_usd")
    print("Q7 downstream of stg_ad_spend.spend_usd (current):")
    print(fmt_cols(m.closure(sp)))
    ads = ("bigquery", "acme-marketing.staging.stg_ad_spend")
    print("Q7b dataset-level downstream of stg_ad_spend (all runs):")
    print(fmt_ds(m.dataset_closure(ads)))

    if PROBLEMS:
        print(f"\n{len(PROBLEMS)} PROBLEM(S):")
        for p in PROBLEMS[:50]:
            print("  ", p)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
