#!/usr/bin/env python3
"""Generate the Tributary sample data mesh as OpenLineage 2-0-2 run events.

Writes samples/mesh.ndjson (one compact JSON event per line). Standard library only and fully
deterministic: fixed timestamps, run ids from uuid.uuid5 over names, no randomness. Running it
twice produces byte-identical output. See samples/README.md for what the mesh contains and
where each special case is; samples/check_mesh.py validates the output and recomputes the
closure results quoted in the README.

Usage: python3 samples/make_mesh.py [output_path]
"""

import datetime as dt
import hashlib
import json
import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "mesh.ndjson")

UTC = dt.timezone.utc
UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://tributary.example/samples/mesh")

# --------------------------------------------------------------------------------------------
# Producers and schema URLs
# --------------------------------------------------------------------------------------------

AIRFLOW = "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0"
SPARK = "https://github.com/OpenLineage/OpenLineage/tree/1.23.0/integration/spark"
DBT = "https://github.com/OpenLineage/OpenLineage/tree/1.23.0/integration/dbt"
# dbt-ol builds most facets with the Python client, so their _producer is the client's URL.
DBT_CLIENT = "https://github.com/OpenLineage/OpenLineage/tree/1.23.0/client/python"

RUN_EVENT_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
CUSTOM_RUN_FACET_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"
DBT_RUN_FACET_URL = ("https://github.com/OpenLineage/OpenLineage/tree/main/integration/common/"
                     "openlineage/schema/dbt-run-run-facet.json")


def furl(version, name):
    return f"https://openlineage.io/spec/facets/{version}/{name}.json#/$defs/{name}"


def facet(producer, url, **body):
    out = {"_producer": producer, "_schemaURL": url}
    out.update(body)
    return out


# --------------------------------------------------------------------------------------------
# Namespaces, domains, owners
# --------------------------------------------------------------------------------------------

PG_ORDERS = "postgres://orders-db.prod:5432"
PG_CRM = "postgres://customers-db.prod:5432"
MYSQL_BILLING = "mysql://billing-db.prod:3306"
S3_RAW = "s3://acme-raw"
S3_LAKE = "s3://acme-lake"
SNOWFLAKE = "snowflake://acme-analytics"
BIGQUERY = "bigquery"
LOOKER = "looker://acme"
GLUE = "arn:aws:glue:us-east-1:123456789012"

AIRFLOW_NS = "airflow-prod"
SPARK_NS = "spark-prod"
DBT_NS = "dbt-prod"

DOMAIN_OWNERS = {
    "orders": [("team:orders-data", "TEAM"), ("user:alice", "MAINTAINER")],
    "customers": [("team:customer-data", "TEAM"), ("user:bob", "MAINTAINER")],
    "billing": [("team:billing-data", "TEAM"), ("user:carol", "MAINTAINER")],
    "marketing": [("team:marketing-analytics", "TEAM"), ("user:dave", "MAINTAINER")],
    # platform teams own the orchestration-level (parent) jobs
    "bi-platform": [("team:bi-platform", "TEAM"), ("user:erin", "MAINTAINER")],
    "analytics-engineering": [("team:analytics-engineering", "TEAM"), ("user:frank", "MAINTAINER")],
}

# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


def col(name, type_, description=None, children=None):
    c = {"name": name, "type": type_}
    if description:
        c["description"] = description
    if children:
        c["fields"] = children
    return c


class Dataset:
    def __init__(self, key, namespace, name, domain, layer, doc, fields, *, fields_v2=None,
                 v2_from_day=None, symlinks=None, dataset_type=None, pii=None, source_uri=None,
                 alias=False):
        self.key = key
        self.namespace = namespace
        self.name = name
        self.domain = domain
        self.layer = layer
        self.doc = doc
        self.fields = fields
        self.fields_v2 = fields_v2
        self.v2_from_day = v2_from_day
        self.symlinks = symlinks or []
        self.dataset_type = dataset_type
        self.pii = pii or []
        self.source_uri = source_uri or namespace
        self.alias = alias  # an alternative identifier of another dataset (symlink target)

    def fields_on(self, day):
        if self.fields_v2 is not None and day >= self.v2_from_day:
            return self.fields_v2
        return self.fields


DS = {}


def dataset(key, *args, **kwargs):
    DS[key] = Dataset(key, *args, **kwargs)


def glue(db, table):
    return [{"namespace": GLUE, "name": f"table/{db}/{table}", "type": "TABLE"}]


NUM = "NUMBER(38,0)"

# ---- orders ---------------------------------------------------------------------------------
dataset("orders_src", PG_ORDERS, "orders.public.orders", "orders", "source",
        "Operational orders table of the order service (one row per order).",
        [col("order_id", "bigint", "Primary key"),
         col("customer_id", "bigint", "FK to crm.public.customers"),
         col("created_at", "timestamp"),
         col("status", "varchar"),
         col("total_cents", "bigint", "Legacy order total in cents (deprecated, replaced by subtotal - discount)"),
         col("subtotal_cents", "bigint"),
         col("discount_cents", "bigint"),
         col("currency", "char(3)")])
dataset("raw_orders", SNOWFLAKE, "raw.orders.orders", "orders", "raw",
        "Daily full copy of orders.public.orders landed in Snowflake by Airflow.",
        [col("order_id", NUM), col("customer_id", NUM), col("created_at", "TIMESTAMP_NTZ"),
         col("status", "VARCHAR"), col("total_cents", NUM), col("subtotal_cents", NUM),
         col("discount_cents", NUM), col("currency", "VARCHAR(3)"),
         col("_loaded_at", "TIMESTAMP_LTZ", "Load timestamp added by the extractor")])
STG_ORDERS_V1 = [col("order_id", NUM), col("customer_id", NUM), col("order_date", "DATE"),
                 col("order_status", "VARCHAR"), col("amount", "NUMBER(10,2)", "Order amount in major units"),
                 col("currency", "VARCHAR(3)")]
STG_ORDERS_V2 = [col("order_id", NUM), col("customer_id", NUM), col("order_date", "DATE"),
                 col("order_status", "VARCHAR"),
                 col("amount", "NUMBER(18,4)", "Net order amount (subtotal - discount) in major units"),
                 col("discount_amount", "NUMBER(18,4)", "Discount in major units"),
                 col("currency", "VARCHAR(3)")]
SCHEMA_CHANGE_DAY = 6  # 2024-03-06
dataset("stg_orders", SNOWFLAKE, "analytics.staging.stg_orders", "orders", "staging",
        "Cleaned orders, one row per order.", STG_ORDERS_V1,
        fields_v2=STG_ORDERS_V2, v2_from_day=SCHEMA_CHANGE_DAY)
dataset("fct_orders", SNOWFLAKE, "analytics.marts.fct_orders", "orders", "mart",
        "Order fact table enriched with customer city and first-order flag.",
        [col("order_id", NUM), col("customer_id", NUM), col("order_date", "DATE"),
         col("order_status", "VARCHAR"), col("amount", "NUMBER(12,2)"), col("customer_city", "VARCHAR"),
         col("is_first_order", "BOOLEAN")])
dataset("dash_orders", LOOKER, "dashboards/orders_daily_overview", "orders", "dashboard",
        "Looker dashboard: daily orders, revenue and new customers.",
        [col("order_date", "date"), col("order_count", "number"), col("revenue", "number"),
         col("avg_order_value", "number"), col("new_customers", "number")],
        dataset_type="DASHBOARD", source_uri="https://acme.cloud.looker.com")

# ---- customers ------------------------------------------------------------------------------
dataset("customers_src", PG_CRM, "crm.public.customers", "customers", "source",
        "CRM customer master (operational).",
        [col("customer_id", "bigint", "Primary key"),
         col("first_name", "varchar"), col("last_name", "varchar"),
         col("email", "varchar", "Customer e-mail address (PII)"),
         col("phone", "varchar"),
         col("address", "address_t", "Postal address (composite type)",
             [col("street", "varchar"), col("city", "varchar"), col("zip", "varchar"),
              col("country", "char(2)")]),
         col("created_at", "timestamp"), col("updated_at", "timestamp"),
         col("is_deleted", "boolean", "Soft-delete flag")],
        pii=[("pii", "email", "email")])
dataset("consents_src", PG_CRM, "crm.public.marketing_consents", "customers", "source",
        "Marketing consent per customer and channel.",
        [col("customer_id", "bigint"), col("channel", "varchar"), col("opted_in", "boolean"),
         col("updated_at", "timestamp")])
dataset("raw_customers", SNOWFLAKE, "raw.crm.customers", "customers", "raw",
        "Daily copy of crm.public.customers landed in Snowflake by Airflow.",
        [col("customer_id", NUM), col("first_name", "VARCHAR"), col("last_name", "VARCHAR"),
         col("email", "VARCHAR"), col("phone", "VARCHAR"),
         col("address", "OBJECT", None,
             [col("street", "VARCHAR"), col("city", "VARCHAR"), col("zip", "VARCHAR"),
              col("country", "VARCHAR")]),
         col("created_at", "TIMESTAMP_NTZ"), col("updated_at", "TIMESTAMP_NTZ"),
         col("is_deleted", "BOOLEAN"), col("_loaded_at", "TIMESTAMP_LTZ")])
dataset("raw_consents", SNOWFLAKE, "raw.crm.marketing_consents", "customers", "raw",
        "Daily copy of crm.public.marketing_consents landed in Snowflake by Airflow.",
        [col("customer_id", NUM), col("channel", "VARCHAR"), col("opted_in", "BOOLEAN"),
         col("updated_at", "TIMESTAMP_NTZ"), col("_loaded_at", "TIMESTAMP_LTZ")])
dataset("stg_customers", SNOWFLAKE, "analytics.staging.stg_customers", "customers", "staging",
        "Active customers with flattened address.",
        [col("customer_id", NUM), col("full_name", "VARCHAR"), col("email", "VARCHAR"),
         col("phone", "VARCHAR"), col("city", "VARCHAR"), col("zip", "VARCHAR"),
         col("country", "VARCHAR(2)"), col("signup_date", "DATE")])
dataset("dim_customers", SNOWFLAKE, "analytics.marts.dim_customers", "customers", "mart",
        "Customer dimension with lifetime order metrics and tier.",
        [col("customer_id", NUM), col("full_name", "VARCHAR"), col("email", "VARCHAR"),
         col("city", "VARCHAR"), col("zip", "VARCHAR"), col("country", "VARCHAR(2)"),
         col("signup_date", "DATE"), col("lifetime_orders", "NUMBER(18,0)"),
         col("lifetime_value", "NUMBER(18,2)"), col("customer_tier", "VARCHAR")])
dataset("dash_c360", LOOKER, "dashboards/customer_360", "customers", "dashboard",
        "Looker dashboard: customer 360 lookup (shows e-mail, restricted to support staff).",
        [col("customer_id", "number"), col("full_name", "string"), col("email", "string"),
         col("city", "string"), col("country", "string"), col("lifetime_value", "number"),
         col("customer_tier", "string")],
        dataset_type="DASHBOARD", source_uri="https://acme.cloud.looker.com")

# ---- marketing ------------------------------------------------------------------------------
dataset("ad_spend_src", S3_RAW, "marketing/ad_spend", "marketing", "source",
        "Daily ad-spend CSV drops from the ad networks.",
        [col("date", "date"), col("campaign_id", "string"), col("channel", "string"),
         col("impressions", "long"), col("clicks", "long"), col("spend_usd", "double")],
        source_uri="s3://acme-raw")
dataset("web_events_src", S3_RAW, "marketing/web_events", "marketing", "source",
        "Clickstream events (JSON lines) from the website tracker.",
        [col("event_id", "string"), col("event_ts", "timestamp"), col("anonymous_id", "string"),
         col("customer_id", "long"), col("event_type", "string"), col("utm_campaign", "string"),
         col("page_url", "string"),
         col("device", "struct", None,
             [col("type", "string"), col("os", "string"), col("browser", "string")])])
dataset("stg_ad_spend", BIGQUERY, "acme-marketing.staging.stg_ad_spend", "marketing", "staging",
        "Normalised ad spend per day, campaign and channel.",
        [col("spend_date", "DATE"), col("campaign_id", "STRING"), col("channel", "STRING"),
         col("impressions", "INT64"), col("clicks", "INT64"), col("spend_usd", "NUMERIC"),
         col("cpc", "NUMERIC")])
dataset("stg_web_sessions", BIGQUERY, "acme-marketing.staging.stg_web_sessions", "marketing", "staging",
        "Web sessions built from clickstream events (30 min inactivity window).",
        [col("session_id", "STRING"), col("anonymous_id", "STRING"), col("customer_id", "INT64"),
         col("session_start", "TIMESTAMP"), col("session_end", "TIMESTAMP"),
         col("page_views", "INT64"), col("utm_campaign", "STRING"), col("converted", "BOOL"),
         col("device_type", "STRING")])
dataset("mkt_audience", SNOWFLAKE, "analytics.marketing.mkt_customer_audience", "marketing", "mart",
        "Consented marketing audience; e-mail only as a SHA-256 hash.",
        [col("customer_id", NUM), col("email_hash", "VARCHAR(64)", "sha256(lower(email))"),
         col("country", "VARCHAR(2)"), col("customer_tier", "VARCHAR"),
         col("lifetime_value", "NUMBER(18,2)"), col("channel", "VARCHAR")])
dataset("customer_segments", BIGQUERY, "acme-marketing.audiences.customer_segments", "marketing", "mart",
        "Audience export used by the ad platforms (hashed e-mail only).",
        [col("customer_id", "INT64"), col("email_hash", "STRING"), col("customer_tier", "STRING"),
         col("country", "STRING"), col("channel", "STRING"), col("lifetime_value", "NUMERIC"),
         col("exported_at", "TIMESTAMP")])
CAMPAIGN_FIELDS = [col("report_date", "DATE"), col("campaign_id", "STRING"), col("channel", "STRING"),
                   col("spend_usd", "NUMERIC"), col("clicks", "INT64"), col("sessions", "INT64"),
                   col("conversions", "INT64"), col("cost_per_conversion", "NUMERIC")]
dataset("campaign_perf", BIGQUERY, "acme-marketing.reporting.campaign_perf", "marketing", "mart",
        "Campaign performance per day and campaign.", CAMPAIGN_FIELDS)
dataset("campaign_perf_daily", BIGQUERY, "acme-marketing.reporting.campaign_performance_daily",
        "marketing", "mart", "Campaign performance per day.", CAMPAIGN_FIELDS)
dataset("dash_campaign", LOOKER, "dashboards/marketing_campaign_performance", "marketing", "dashboard",
        "Looker dashboard: spend and conversions per channel.",
        [col("report_date", "date"), col("channel", "string"), col("spend_usd", "number"),
         col("conversions", "number"), col("cost_per_conversion", "number")],
        dataset_type="DASHBOARD", source_uri="https://acme.cloud.looker.com")
dataset("dash_audience", LOOKER, "dashboards/audience_explorer", "marketing", "dashboard",
        "Looker dashboard: audience sizes per segment and channel.",
        [col("segment", "string"), col("channel", "string"), col("audience_size", "number"),
         col("avg_lifetime_value", "number")],
        dataset_type="DASHBOARD", source_uri="https://acme.cloud.looker.com")

# ---- billing --------------------------------------------------------------------------------
dataset("invoices_src", MYSQL_BILLING, "billing.invoices", "billing", "source",
        "Invoices issued by the billing service.",
        [col("invoice_id", "bigint"), col("customer_id", "bigint"), col("order_id", "bigint"),
         col("issued_at", "datetime"), col("due_at", "datetime"), col("amount_cents", "bigint"),
         col("currency", "char(3)"), col("status", "varchar(16)")])
dataset("payments_src", MYSQL_BILLING, "billing.payments", "billing", "source",
        "Payments received against invoices.",
        [col("payment_id", "bigint"), col("invoice_id", "bigint"), col("paid_at", "datetime"),
         col("amount_cents", "bigint"), col("method", "varchar(16)"), col("status", "varchar(16)")])
STG_INVOICES_FIELDS = [col("invoice_id", "long"), col("customer_id", "long"), col("order_id", "long"),
                       col("issued_date", "date"), col("due_date", "date"), col("amount", "decimal(18,2)"),
                       col("currency", "string"), col("invoice_status", "string")]
dataset("stg_invoices", S3_LAKE, "warehouse/billing/stg_invoices", "billing", "staging",
        "Invoices in major units (parquet, Glue table billing.stg_invoices).", STG_INVOICES_FIELDS,
        symlinks=glue("billing", "stg_invoices"))
dataset("stg_payments", S3_LAKE, "warehouse/billing/stg_payments", "billing", "staging",
        "Payments in major units (parquet, Glue table billing.stg_payments).",
        [col("payment_id", "long"), col("invoice_id", "long"), col("paid_date", "date"),
         col("amount", "decimal(18,2)"), col("method", "string"), col("payment_status", "string")],
        symlinks=glue("billing", "stg_payments"))
FCT_REVENUE_FIELDS = [col("revenue_date", "date"), col("currency", "string"),
                      col("invoiced_amount", "decimal(38,2)"), col("collected_amount", "decimal(38,2)"),
                      col("invoice_count", "long"), col("outstanding_amount", "decimal(38,2)")]
dataset("fct_revenue", S3_LAKE, "warehouse/billing/fct_revenue_daily", "billing", "mart",
        "Invoiced vs collected revenue per day and currency.", FCT_REVENUE_FIELDS,
        symlinks=glue("billing", "fct_revenue_daily"))
dataset("ar_aging", S3_LAKE, "warehouse/billing/ar_aging", "billing", "mart",
        "Accounts-receivable aging of open invoices.",
        [col("customer_id", "long"), col("invoice_id", "long"), col("due_date", "date"),
         col("days_overdue", "integer"), col("aging_bucket", "string"), col("open_amount", "decimal(18,2)"),
         col("overdue_rank", "integer")],
        symlinks=glue("billing", "ar_aging"))
dataset("invoices_backup", S3_LAKE, "warehouse/billing/invoices_v1_backup", "billing", "staging",
        "One-off backup of stg_invoices taken before the invoice model migration.",
        STG_INVOICES_FIELDS, symlinks=glue("billing", "invoices_v1_backup"))
dataset("dash_finance", LOOKER, "dashboards/finance_revenue", "billing", "dashboard",
        "Looker dashboard: revenue, collections and overdue receivables.",
        [col("revenue_date", "date"), col("currency", "string"), col("invoiced_amount", "number"),
         col("collected_amount", "number"), col("outstanding_amount", "number"),
         col("overdue_total", "number")],
        dataset_type="DASHBOARD", source_uri="https://acme.cloud.looker.com")
# The Glue-table identifier of fct_revenue_daily, as read by the Looker refresh (Athena). It is a
# symlink of "fct_revenue" above, not a separate table: it carries only dataSource and schema.
dataset("fct_revenue_glue", GLUE, "table/billing/fct_revenue_daily", "billing", "mart",
        None, FCT_REVENUE_FIELDS, alias=True)


def campaign_key(day):
    """campaign_perf was renamed to campaign_performance_daily on 2024-03-06 (05:00)."""
    return "campaign_perf" if day < RENAME_DAY else "campaign_perf_daily"


RENAME_DAY = 6

# --------------------------------------------------------------------------------------------
# Column lineage helpers
# --------------------------------------------------------------------------------------------

ID = ("DIRECT", "IDENTITY")
TR = ("DIRECT", "TRANSFORMATION")
AGG = ("DIRECT", "AGGREGATION")
JOIN = ("INDIRECT", "JOIN")
GROUP_BY = ("INDIRECT", "GROUP_BY")
FILTER = ("INDIRECT", "FILTER")
SORT = ("INDIRECT", "SORT")
WINDOW = ("INDIRECT", "WINDOW")
COND = ("INDIRECT", "CONDITIONAL")


def t(kind, description="", masking=False):
    return {"type": kind[0], "subtype": kind[1], "description": description, "masking": masking}


def src(ds_key, field, *transforms):
    """One input column with its transformations (current form)."""
    return (ds_key, field, list(transforms))


def merge_inputs(items):
    """Group (ds, field, transforms) by input column, keeping transformation order."""
    order, grouped = [], {}
    for ds_key, field, transforms in items:
        k = (ds_key, field)
        if k not in grouped:
            grouped[k] = []
            order.append(k)
        grouped[k].extend(transforms)
    out = []
    for ds_key, field in order:
        d = DS[ds_key]
        out.append({"namespace": d.namespace, "name": d.name, "field": field,
                    "transformations": grouped[(ds_key, field)]})
    return out


def cll_current(producer, fields, dataset_level=None, also_every_field=None):
    """Current (1-2-0) form. also_every_field: indirect inputs copied into every field (the
    default 'legacy representation' of Spark, not to be confused with the legacy facet form).
    dbt (DBT_CLIENT producer) leaves out empty descriptions; Spark sends description "" (as the
    real integration does; the texts in this file are for the reader); Airflow sends the text."""
    extra = also_every_field or []
    body = {"fields": {name: {"inputFields": merge_inputs(list(items) + list(extra))}
                       for name, items in fields.items()}}
    if dataset_level is not None:
        body["dataset"] = merge_inputs(dataset_level)
    if producer == SPARK:
        for entry in [i for f in body["fields"].values() for i in f["inputFields"]] + body.get("dataset", []):
            for tr in entry["transformations"]:
                tr["description"] = ""
    if producer == DBT_CLIENT:
        for entry in [i for f in body["fields"].values() for i in f["inputFields"]] + body.get("dataset", []):
            for tr in entry["transformations"]:
                if tr["description"] == "":
                    del tr["description"]
    return facet(producer, furl("1-2-0", "ColumnLineageDatasetFacet"), **body)


def cll_legacy(producer, mapping, *, old_schema=False):
    """Legacy form: transformationDescription/Type per output field, no per-input
    transformations. mapping: out_field -> (ds_key, in_field, type, description).
    old_schema=False mimics Airflow provider 1.14 (1-2-0 URL, empty transformations and dataset
    lists); old_schema=True is the 1-0-1 shape (no transformations key, no dataset key)."""
    fields = {}
    for out_field, (ds_key, in_field, ttype, desc) in mapping.items():
        d = DS[ds_key]
        inp = {"namespace": d.namespace, "name": d.name, "field": in_field}
        if not old_schema:
            inp["transformations"] = []
        fields[out_field] = {"inputFields": [inp], "transformationDescription": desc,
                             "transformationType": ttype}
    if old_schema:
        return facet(producer, furl("1-0-1", "ColumnLineageDatasetFacet"), fields=fields)
    return facet(producer, furl("1-2-0", "ColumnLineageDatasetFacet"), fields=fields, dataset=[])


def copy_all(ds_in, ds_out_fields, skip=()):
    """Legacy IDENTITY mapping for a 1:1 copy, including nested struct children as dotted paths."""
    mapping = {}
    for c in ds_out_fields:
        if c["name"] in skip:
            continue
        mapping[c["name"]] = (ds_in, c["name"], "IDENTITY", "identical")
        for child in c.get("fields", []):
            path = f'{c["name"]}.{child["name"]}'
            mapping[path] = (ds_in, path, "IDENTITY", "identical")
    return mapping


# --------------------------------------------------------------------------------------------
# Jobs: inputs, outputs and column lineage per day
# --------------------------------------------------------------------------------------------


class Job:
    def __init__(self, key, kind, namespace, name, domain, *, inputs=None, outputs=None, cll=None,
                 sql=None, parent=None, operator=None, app=None):
        """operator: the Airflow operator class, informational only (not emitted)."""
        self.key = key
        self.kind = kind  # airflow | airflow_dag | spark | dbt | dbt_run
        self.namespace = namespace
        self.name = name
        self.domain = domain
        self.inputs = inputs or (lambda day: [])
        self.outputs = outputs or (lambda day: [])
        self.cll = cll or (lambda day, out_key: None)
        self.sql = sql
        self.parent = parent
        self.operator = operator
        self.app = app


JOBS = {}


def job(key, *args, **kwargs):
    JOBS[key] = Job(key, *args, **kwargs)


def const(*keys):
    return lambda day: list(keys)


# ---- Airflow: ingestion (legacy column lineage form) ----------------------------------------
job("dag_orders_ingest", "airflow_dag", AIRFLOW_NS, "orders_ingest", "orders")
job("extract_orders", "airflow", AIRFLOW_NS, "orders_ingest.extract_orders", "orders",
    parent="dag_orders_ingest", operator="acme.operators.PostgresToSnowflakeOperator",
    inputs=const("orders_src"), outputs=const("raw_orders"),
    cll=lambda day, out: cll_legacy(AIRFLOW, copy_all("orders_src", DS["raw_orders"].fields,
                                                        skip=("_loaded_at",))))

job("dag_crm_ingest", "airflow_dag", AIRFLOW_NS, "crm_ingest", "customers")
job("extract_customers", "airflow", AIRFLOW_NS, "crm_ingest.extract_customers", "customers",
    parent="dag_crm_ingest", operator="acme.operators.PostgresToSnowflakeOperator",
    inputs=const("customers_src"), outputs=const("raw_customers"),
    cll=lambda day, out: cll_legacy(AIRFLOW, copy_all("customers_src", DS["raw_customers"].fields,
                                                        skip=("_loaded_at",))))
job("extract_consents", "airflow", AIRFLOW_NS, "crm_ingest.extract_marketing_consents", "customers",
    parent="dag_crm_ingest", operator="acme.operators.PostgresToSnowflakeOperator",
    inputs=const("consents_src"), outputs=const("raw_consents"),
    cll=lambda day, out: cll_legacy(AIRFLOW, copy_all("consents_src", DS["raw_consents"].fields,
                                                        skip=("_loaded_at",))))

# ---- Spark: billing (lake on S3, Glue symlinks) ---------------------------------------------
SPARK_INSERT = "execute_insert_into_hadoop_fs_relation_command"

job("spark_stg_invoices", "spark", SPARK_NS, f"billing_staging.{SPARK_INSERT}.billing_stg_invoices",
    "billing", app="billing_staging", inputs=const("invoices_src"), outputs=const("stg_invoices"),
    cll=lambda day, out: cll_current(SPARK, {
        "invoice_id": [src("invoices_src", "invoice_id", t(ID))],
        "customer_id": [src("invoices_src", "customer_id", t(ID))],
        "order_id": [src("invoices_src", "order_id", t(ID))],
        "issued_date": [src("invoices_src", "issued_at", t(TR, "to_date(issued_at)"))],
        "due_date": [src("invoices_src", "due_at", t(TR, "to_date(due_at)"))],
        "amount": [src("invoices_src", "amount_cents", t(TR, "amount_cents / 100"))],
        "currency": [src("invoices_src", "currency", t(ID))],
        "invoice_status": [src("invoices_src", "status", t(ID))],
    }))
job("spark_stg_payments", "spark", SPARK_NS, f"billing_staging.{SPARK_INSERT}.billing_stg_payments",
    "billing", app="billing_staging", inputs=const("payments_src"), outputs=const("stg_payments"),
    cll=lambda day, out: cll_current(SPARK, {
        "payment_id": [src("payments_src", "payment_id", t(ID))],
        "invoice_id": [src("payments_src", "invoice_id", t(ID))],
        "paid_date": [src("payments_src", "paid_at", t(TR, "to_date(paid_at)"))],
        "amount": [src("payments_src", "amount_cents", t(TR, "amount_cents / 100"))],
        "method": [src("payments_src", "method",
                       t(TR, "CASE method WHEN 'cc' THEN 'card' WHEN 'dd' THEN 'direct_debit' ELSE method END"),
                       t(COND, "CASE method WHEN ..."))],
        "payment_status": [src("payments_src", "status", t(ID))],
    }))
# dataset-wide `dataset` array (1-2-0 form): JOIN / FILTER / GROUP_BY inputs listed once
job("spark_fct_revenue", "spark", SPARK_NS, f"billing_marts.{SPARK_INSERT}.billing_fct_revenue_daily",
    "billing", app="billing_marts", inputs=const("stg_invoices", "stg_payments"),
    outputs=const("fct_revenue"),
    cll=lambda day, out: cll_current(SPARK, {
        "revenue_date": [src("stg_invoices", "issued_date", t(ID))],
        "currency": [src("stg_invoices", "currency", t(ID))],
        "invoiced_amount": [src("stg_invoices", "amount", t(AGG, "sum(i.amount)"))],
        "collected_amount": [src("stg_payments", "amount", t(AGG, "sum(p.amount)"))],
        "invoice_count": [src("stg_invoices", "invoice_id", t(AGG, "count(DISTINCT i.invoice_id)"))],
        "outstanding_amount": [src("stg_invoices", "amount", t(AGG, "sum(i.amount) - sum(coalesce(p.amount, 0))")),
                               src("stg_payments", "amount", t(AGG, "sum(coalesce(p.amount, 0))"),
                                   t(COND, "coalesce(p.amount, 0)"))],
    }, dataset_level=[
        src("stg_invoices", "invoice_id", t(JOIN, "i.invoice_id = p.invoice_id")),
        src("stg_payments", "invoice_id", t(JOIN, "i.invoice_id = p.invoice_id")),
        src("stg_invoices", "invoice_status", t(FILTER, "i.invoice_status <> 'void'")),
        src("stg_payments", "payment_status", t(FILTER, "p.payment_status = 'succeeded'")),
        src("stg_invoices", "issued_date", t(GROUP_BY)),
        src("stg_invoices", "currency", t(GROUP_BY)),
    ]))
# per-field INDIRECT inputs (Spark default representation): FILTER and SORT copied into every field
job("spark_ar_aging", "spark", SPARK_NS, f"billing_marts.{SPARK_INSERT}.billing_ar_aging",
    "billing", app="billing_marts", inputs=const("stg_invoices", "stg_payments"), outputs=const("ar_aging"),
    cll=lambda day, out: cll_current(SPARK, {
        "customer_id": [src("stg_invoices", "customer_id", t(ID))],
        "invoice_id": [src("stg_invoices", "invoice_id", t(ID))],
        "due_date": [src("stg_invoices", "due_date", t(ID))],
        "days_overdue": [src("stg_invoices", "due_date", t(TR, "datediff(current_date(), due_date)"))],
        "aging_bucket": [src("stg_invoices", "due_date",
                             t(TR, "CASE WHEN days_overdue <= 30 THEN '0-30' ... END"),
                             t(COND, "CASE WHEN days_overdue <= 30 ..."))],
        "open_amount": [src("stg_invoices", "amount", t(TR, "i.amount - coalesce(paid, 0)")),
                        src("stg_payments", "amount", t(AGG, "sum(p.amount) AS paid"))],
        "overdue_rank": [src("stg_invoices", "customer_id", t(WINDOW, "PARTITION BY customer_id")),
                         src("stg_invoices", "due_date", t(WINDOW, "row_number() OVER (... ORDER BY due_date)"))],
    }, also_every_field=[
        src("stg_invoices", "invoice_status", t(FILTER, "invoice_status = 'open'")),
        src("stg_invoices", "due_date", t(SORT, "ORDER BY days_overdue DESC")),
    ]))
job("spark_backup_ctas", "spark", SPARK_NS,
    "billing_maintenance.execute_create_data_source_table_as_select_command.billing_invoices_v1_backup",
    "billing", app="billing_maintenance", inputs=const("stg_invoices"), outputs=const("invoices_backup"),
    cll=lambda day, out: cll_current(SPARK, {c["name"]: [src("stg_invoices", c["name"], t(ID))]
                                             for c in STG_INVOICES_FIELDS}))
job("spark_drop_backup", "spark", SPARK_NS,
    "billing_maintenance.execute_drop_table_command.billing_invoices_v1_backup",
    "billing", app="billing_maintenance", outputs=const("invoices_backup"))

# ---- Spark: marketing (S3 raw -> BigQuery staging) ------------------------------------------
SPARK_SAVE = "execute_save_into_data_source_command"
job("spark_stg_ad_spend", "spark", SPARK_NS, f"marketing_staging.{SPARK_SAVE}.staging_stg_ad_spend",
    "marketing", app="marketing_staging", inputs=const("ad_spend_src"), outputs=const("stg_ad_spend"),
    cll=lambda day, out: cll_current(SPARK, {
        "spend_date": [src("ad_spend_src", "date", t(TR, "to_date(date)"))],
        "campaign_id": [src("ad_spend_src", "campaign_id", t(ID))],
        "channel": [src("ad_spend_src", "channel", t(TR, "lower(channel)"))],
        "impressions": [src("ad_spend_src", "impressions", t(ID))],
        "clicks": [src("ad_spend_src", "clicks", t(ID))],
        "spend_usd": [src("ad_spend_src", "spend_usd", t(TR, "CAST(spend_usd AS DECIMAL(18,2))"))],
        "cpc": [src("ad_spend_src", "spend_usd", t(TR, "spend_usd / clicks")),
                src("ad_spend_src", "clicks", t(TR, "spend_usd / clicks"),
                    t(COND, "CASE WHEN clicks > 0 THEN ... END"))],
    }))
SESSION_GROUP = [src("web_events_src", "anonymous_id", t(GROUP_BY, "GROUP BY anonymous_id, session_seq"))]
job("spark_stg_web_sessions", "spark", SPARK_NS, f"marketing_staging.{SPARK_SAVE}.staging_stg_web_sessions",
    "marketing", app="marketing_staging", inputs=const("web_events_src"), outputs=const("stg_web_sessions"),
    cll=lambda day, out: cll_current(SPARK, {
        "session_id": [src("web_events_src", "anonymous_id", t(TR, "concat(anonymous_id, '-', session_seq)"),
                           t(WINDOW, "sum(new_session) OVER (PARTITION BY anonymous_id ORDER BY event_ts)")),
                       src("web_events_src", "event_ts",
                           t(WINDOW, "lag(event_ts) OVER (PARTITION BY anonymous_id ORDER BY event_ts)"))],
        "anonymous_id": [src("web_events_src", "anonymous_id", t(ID))],
        "customer_id": [src("web_events_src", "customer_id", t(AGG, "max(customer_id)"))] + SESSION_GROUP,
        "session_start": [src("web_events_src", "event_ts", t(AGG, "min(event_ts)"))] + SESSION_GROUP,
        "session_end": [src("web_events_src", "event_ts", t(AGG, "max(event_ts)"))] + SESSION_GROUP,
        "page_views": [src("web_events_src", "event_id", t(AGG, "count(event_id)"))] + SESSION_GROUP,
        "utm_campaign": [src("web_events_src", "utm_campaign", t(AGG, "first(utm_campaign)"))] + SESSION_GROUP,
        "converted": [src("web_events_src", "event_type",
                          t(AGG, "max(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) = 1"),
                          t(COND, "CASE WHEN event_type = 'purchase' ..."))] + SESSION_GROUP,
        "device_type": [src("web_events_src", "device.type", t(AGG, "first(device.type)"))] + SESSION_GROUP,
    }))

# ---- dbt (Snowflake) ------------------------------------------------------------------------
job("dbt_run", "dbt_run", DBT_NS, "dbt-run-acme_analytics", "analytics-engineering")

STG_ORDERS_SQL_V1 = """select
    order_id,
    customer_id,
    cast(created_at as date) as order_date,
    lower(status) as order_status,
    cast(total_cents / 100 as number(10,2)) as amount,
    currency
from raw.orders.orders"""
STG_ORDERS_SQL_V2 = """select
    order_id,
    customer_id,
    cast(created_at as date) as order_date,
    lower(status) as order_status,
    cast((subtotal_cents - discount_cents) / 100 as number(18,4)) as amount,
    cast(discount_cents / 100 as number(18,4)) as discount_amount,
    currency
from raw.orders.orders"""


def stg_orders_cll(day, out):
    common = {
        "order_id": [src("raw_orders", "order_id", t(ID))],
        "customer_id": [src("raw_orders", "customer_id", t(ID))],
        "order_date": [src("raw_orders", "created_at", t(TR, "cast(created_at as date)"))],
        "order_status": [src("raw_orders", "status", t(TR, "lower(status)"))],
    }
    if day < SCHEMA_CHANGE_DAY:
        common["amount"] = [src("raw_orders", "total_cents", t(TR, "total_cents / 100"))]
    else:
        common["amount"] = [src("raw_orders", "subtotal_cents", t(TR, "(subtotal_cents - discount_cents) / 100")),
                            src("raw_orders", "discount_cents", t(TR, "(subtotal_cents - discount_cents) / 100"))]
        common["discount_amount"] = [src("raw_orders", "discount_cents", t(TR, "discount_cents / 100"))]
    common["currency"] = [src("raw_orders", "currency", t(ID))]
    return cll_current(DBT_CLIENT, common)


job("dbt_stg_orders", "dbt", DBT_NS, "acme_analytics.stg_orders", "orders", parent="dbt_run",
    inputs=const("raw_orders"), outputs=const("stg_orders"), cll=stg_orders_cll,
    sql=lambda day: STG_ORDERS_SQL_V1 if day < SCHEMA_CHANGE_DAY else STG_ORDERS_SQL_V2)

NOT_DELETED = [src("raw_customers", "is_deleted", t(FILTER, "where not is_deleted"))]
job("dbt_stg_customers", "dbt", DBT_NS, "acme_analytics.stg_customers", "customers", parent="dbt_run",
    inputs=const("raw_customers"), outputs=const("stg_customers"),
    cll=lambda day, out: cll_current(DBT_CLIENT, {
        "customer_id": [src("raw_customers", "customer_id", t(ID))],
        "full_name": [src("raw_customers", "first_name", t(TR, "first_name || ' ' || last_name")),
                      src("raw_customers", "last_name", t(TR, "first_name || ' ' || last_name"))],
        "email": [src("raw_customers", "email", t(ID))],
        "phone": [src("raw_customers", "phone", t(TR, "regexp_replace(phone, '[^0-9+]', '')"))],
        "city": [src("raw_customers", "address.city", t(ID))],
        "zip": [src("raw_customers", "address.zip", t(ID))],
        "country": [src("raw_customers", "address.country", t(TR, "upper(address:country::varchar)"))],
        "signup_date": [src("raw_customers", "created_at", t(TR, "cast(created_at as date)"))],
    }, also_every_field=NOT_DELETED),
    sql=lambda day: """select
    customer_id,
    first_name || ' ' || last_name as full_name,
    email,
    regexp_replace(phone, '[^0-9+]', '') as phone,
    address:city::varchar as city,
    address:zip::varchar as zip,
    upper(address:country::varchar) as country,
    cast(created_at as date) as signup_date
from raw.crm.customers
where not is_deleted""")

ORDERS_CUSTOMER_JOIN = [src("stg_orders", "customer_id", t(JOIN, "o.customer_id = c.customer_id")),
                        src("stg_customers", "customer_id", t(JOIN, "o.customer_id = c.customer_id"))]
job("dbt_fct_orders", "dbt", DBT_NS, "acme_analytics.fct_orders", "orders", parent="dbt_run",
    inputs=const("stg_orders", "stg_customers"), outputs=const("fct_orders"),
    cll=lambda day, out: cll_current(DBT_CLIENT, {
        "order_id": [src("stg_orders", "order_id", t(ID))],
        "customer_id": [src("stg_orders", "customer_id", t(ID))],
        "order_date": [src("stg_orders", "order_date", t(ID))],
        "order_status": [src("stg_orders", "order_status", t(ID))],
        "amount": [src("stg_orders", "amount", t(TR, "cast(o.amount as number(12,2))"))],
        "customer_city": [src("stg_customers", "city", t(ID))] + ORDERS_CUSTOMER_JOIN,
        "is_first_order": [src("stg_orders", "customer_id", t(WINDOW, "partition by o.customer_id")),
                           src("stg_orders", "order_date", t(WINDOW, "order by o.order_date"))],
    }),
    sql=lambda day: """select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.order_status,
    cast(o.amount as number(12,2)) as amount,
    c.city as customer_city,
    row_number() over (partition by o.customer_id order by o.order_date) = 1 as is_first_order
from analytics.staging.stg_orders o
left join analytics.staging.stg_customers c on o.customer_id = c.customer_id""")

ORDER_AGG_CTX = [src("fct_orders", "customer_id", t(GROUP_BY, "group by customer_id"),
                     t(JOIN, "c.customer_id = o.customer_id")),
                 src("stg_customers", "customer_id", t(JOIN, "c.customer_id = o.customer_id"))]
job("dbt_dim_customers", "dbt", DBT_NS, "acme_analytics.dim_customers", "customers", parent="dbt_run",
    inputs=const("stg_customers", "fct_orders"), outputs=const("dim_customers"),
    cll=lambda day, out: cll_current(DBT_CLIENT, {
        "customer_id": [src("stg_customers", "customer_id", t(ID))],
        "full_name": [src("stg_customers", "full_name", t(ID))],
        "email": [src("stg_customers", "email", t(ID))],
        "city": [src("stg_customers", "city", t(ID))],
        "zip": [src("stg_customers", "zip", t(ID))],
        "country": [src("stg_customers", "country", t(ID))],
        "signup_date": [src("stg_customers", "signup_date", t(ID))],
        "lifetime_orders": [src("fct_orders", "order_id", t(AGG, "count(order_id)"))] + ORDER_AGG_CTX,
        "lifetime_value": [src("fct_orders", "amount", t(AGG, "sum(amount)"))] + ORDER_AGG_CTX,
        "customer_tier": [src("fct_orders", "amount", t(AGG, "sum(amount)"),
                              t(COND, "case when sum(amount) >= 1000 then 'gold' when ... end"))] + ORDER_AGG_CTX,
    }),
    sql=lambda day: """with o as (
    select customer_id, count(order_id) as lifetime_orders, sum(amount) as lifetime_value
    from analytics.marts.fct_orders
    group by customer_id
)
select
    c.customer_id, c.full_name, c.email, c.city, c.zip, c.country, c.signup_date,
    coalesce(o.lifetime_orders, 0) as lifetime_orders,
    coalesce(o.lifetime_value, 0) as lifetime_value,
    case when o.lifetime_value >= 1000 then 'gold'
         when o.lifetime_value >= 200 then 'silver'
         else 'bronze' end as customer_tier
from analytics.staging.stg_customers c
left join o on c.customer_id = o.customer_id""")

# dataset-wide `dataset` array in a dbt model too (JOIN + FILTER)
job("dbt_mkt_audience", "dbt", DBT_NS, "acme_analytics.mkt_customer_audience", "marketing", parent="dbt_run",
    inputs=const("stg_customers", "dim_customers", "raw_consents"), outputs=const("mkt_audience"),
    cll=lambda day, out: cll_current(DBT_CLIENT, {
        "customer_id": [src("stg_customers", "customer_id", t(ID))],
        "email_hash": [src("stg_customers", "email", t(TR, "sha2(lower(email), 256)", masking=True))],
        "country": [src("stg_customers", "country", t(ID))],
        "customer_tier": [src("dim_customers", "customer_tier", t(ID))],
        "lifetime_value": [src("dim_customers", "lifetime_value", t(ID))],
        "channel": [src("raw_consents", "channel", t(ID))],
    }, dataset_level=[
        src("stg_customers", "customer_id", t(JOIN, "c.customer_id = d.customer_id and c.customer_id = m.customer_id")),
        src("dim_customers", "customer_id", t(JOIN, "c.customer_id = d.customer_id")),
        src("raw_consents", "customer_id", t(JOIN, "c.customer_id = m.customer_id")),
        src("raw_consents", "opted_in", t(FILTER, "where m.opted_in")),
    ]),
    sql=lambda day: """select
    c.customer_id,
    sha2(lower(c.email), 256) as email_hash,
    c.country,
    d.customer_tier,
    d.lifetime_value,
    m.channel
from analytics.staging.stg_customers c
join analytics.marts.dim_customers d on c.customer_id = d.customer_id
join raw.crm.marketing_consents m on c.customer_id = m.customer_id
where m.opted_in""")

# ---- Airflow: marketing reporting (BigQuery) ------------------------------------------------
job("dag_marketing_reporting", "airflow_dag", AIRFLOW_NS, "marketing_reporting", "marketing")
CAMPAIGN_GROUP = [src("stg_ad_spend", "spend_date", t(GROUP_BY)), src("stg_ad_spend", "campaign_id", t(GROUP_BY)),
                  src("stg_ad_spend", "channel", t(GROUP_BY))]
SESSION_JOIN = [src("stg_ad_spend", "campaign_id", t(JOIN, "a.campaign_id = s.utm_campaign")),
                src("stg_web_sessions", "utm_campaign", t(JOIN, "a.campaign_id = s.utm_campaign"))]
# dataset-level lineage from an Airflow SQL task as well (GROUP_BY and JOIN listed once)
job("build_campaign_perf", "airflow", AIRFLOW_NS, "marketing_reporting.build_campaign_performance", "marketing",
    parent="dag_marketing_reporting",
    operator="airflow.providers.google.cloud.operators.bigquery.BigQueryInsertJobOperator",
    inputs=const("stg_ad_spend", "stg_web_sessions"), outputs=lambda day: [campaign_key(day)],
    cll=lambda day, out: cll_current(AIRFLOW, {
        "report_date": [src("stg_ad_spend", "spend_date", t(ID))],
        "campaign_id": [src("stg_ad_spend", "campaign_id", t(ID))],
        "channel": [src("stg_ad_spend", "channel", t(ID))],
        "spend_usd": [src("stg_ad_spend", "spend_usd", t(AGG, "SUM(a.spend_usd)"))],
        "clicks": [src("stg_ad_spend", "clicks", t(AGG, "SUM(a.clicks)"))],
        "sessions": [src("stg_web_sessions", "session_id", t(AGG, "COUNT(s.session_id)"))],
        "conversions": [src("stg_web_sessions", "converted", t(AGG, "COUNTIF(s.converted)"))],
        "cost_per_conversion": [src("stg_ad_spend", "spend_usd", t(AGG, "SAFE_DIVIDE(SUM(a.spend_usd), COUNTIF(s.converted))")),
                                src("stg_web_sessions", "converted", t(AGG, "COUNTIF(s.converted)"),
                                    t(COND, "NULLIF(COUNTIF(s.converted), 0)"))],
    }, dataset_level=CAMPAIGN_GROUP + SESSION_JOIN),
    sql=lambda day: f"""INSERT INTO `{DS[campaign_key(day)].name}`
SELECT a.spend_date AS report_date, a.campaign_id, a.channel,
       SUM(a.spend_usd) AS spend_usd, SUM(a.clicks) AS clicks,
       COUNT(s.session_id) AS sessions, COUNTIF(s.converted) AS conversions,
       SAFE_DIVIDE(SUM(a.spend_usd), NULLIF(COUNTIF(s.converted), 0)) AS cost_per_conversion
FROM `acme-marketing.staging.stg_ad_spend` a
LEFT JOIN `acme-marketing.staging.stg_web_sessions` s ON a.campaign_id = s.utm_campaign
  AND DATE(s.session_start) = a.spend_date
WHERE a.spend_date = '{day_str(day)}'
GROUP BY 1, 2, 3""")
job("rename_campaign_perf", "airflow", AIRFLOW_NS, "marketing_reporting.rename_campaign_perf_table", "marketing",
    parent="dag_marketing_reporting",
    operator="airflow.providers.google.cloud.operators.bigquery.BigQueryInsertJobOperator",
    outputs=const("campaign_perf_daily"),
    sql=lambda day: "ALTER TABLE `acme-marketing.reporting.campaign_perf` RENAME TO campaign_performance_daily")
# legacy column lineage in its oldest shape (1-0-1: no transformations, no dataset key)
job("export_audience", "airflow", AIRFLOW_NS, "marketing_reporting.export_audience_to_bq", "marketing",
    parent="dag_marketing_reporting",
    operator="acme.operators.SnowflakeToBigQueryOperator",
    inputs=const("mkt_audience"), outputs=const("customer_segments"),
    cll=lambda day, out: cll_legacy(AIRFLOW, {
        name: ("mkt_audience", name, "IDENTITY", "identical")
        for name in ("customer_id", "email_hash", "customer_tier", "country", "channel", "lifetime_value")},
        old_schema=True))

# ---- Airflow: BI refresh (Looker dashboards as datasets) ------------------------------------
job("dag_bi_refresh", "airflow_dag", AIRFLOW_NS, "bi_refresh", "bi-platform")
LOOKER_OP = "acme.operators.LookerRefreshDashboardOperator"
ORDERS_DAY_GROUP = [src("fct_orders", "order_date", t(GROUP_BY))]
job("refresh_orders", "airflow", AIRFLOW_NS, "bi_refresh.refresh_orders_overview", "orders",
    parent="dag_bi_refresh", operator=LOOKER_OP, inputs=const("fct_orders"), outputs=const("dash_orders"),
    cll=lambda day, out: cll_current(AIRFLOW, {
        "order_date": [src("fct_orders", "order_date", t(ID), t(GROUP_BY), t(SORT, "ORDER BY order_date DESC"))],
        "order_count": [src("fct_orders", "order_id", t(AGG, "count(order_id)"))] + ORDERS_DAY_GROUP,
        "revenue": [src("fct_orders", "amount", t(AGG, "sum(amount)"))] + ORDERS_DAY_GROUP,
        "avg_order_value": [src("fct_orders", "amount", t(AGG, "avg(amount)"))] + ORDERS_DAY_GROUP,
        "new_customers": [src("fct_orders", "customer_id", t(AGG, "count(distinct customer_id)")),
                          src("fct_orders", "is_first_order", t(COND, "case when is_first_order then customer_id end"))]
                         + ORDERS_DAY_GROUP,
    }))
job("refresh_c360", "airflow", AIRFLOW_NS, "bi_refresh.refresh_customer_360", "customers",
    parent="dag_bi_refresh", operator=LOOKER_OP, inputs=const("dim_customers"), outputs=const("dash_c360"),
    cll=lambda day, out: cll_current(AIRFLOW, {
        name: [src("dim_customers", name, t(ID))]
        for name in ("customer_id", "full_name", "email", "city", "country", "lifetime_value", "customer_tier")}))
# reads fct_revenue_daily through its Glue symlink identifier (not the s3 primary name)
job("refresh_finance", "airflow", AIRFLOW_NS, "bi_refresh.refresh_finance_revenue", "billing",
    parent="dag_bi_refresh", operator=LOOKER_OP, inputs=const("fct_revenue_glue", "ar_aging"),
    outputs=const("dash_finance"),
    cll=lambda day, out: cll_current(AIRFLOW, {
        "revenue_date": [src("fct_revenue_glue", "revenue_date", t(ID))],
        "currency": [src("fct_revenue_glue", "currency", t(ID))],
        "invoiced_amount": [src("fct_revenue_glue", "invoiced_amount", t(ID))],
        "collected_amount": [src("fct_revenue_glue", "collected_amount", t(ID))],
        "outstanding_amount": [src("fct_revenue_glue", "outstanding_amount", t(ID))],
        "overdue_total": [src("ar_aging", "open_amount", t(AGG, "sum(open_amount)")),
                          src("ar_aging", "days_overdue", t(FILTER, "where days_overdue > 0"))],
    }))


def marketing_dash_cll(day, out):
    """Two outputs of one task; both use dataset-level GROUP_BY entries."""
    if out == "dash_audience":
        return cll_current(AIRFLOW, {
            "segment": [src("customer_segments", "customer_tier", t(TR, "customer_tier || '-' || country")),
                        src("customer_segments", "country", t(TR, "customer_tier || '-' || country"))],
            "channel": [src("customer_segments", "channel", t(ID))],
            "audience_size": [src("customer_segments", "email_hash",
                                  t(AGG, "count(distinct email_hash)", masking=True))],
            "avg_lifetime_value": [src("customer_segments", "lifetime_value", t(AGG, "avg(lifetime_value)"))],
        }, dataset_level=[src("customer_segments", "customer_tier", t(GROUP_BY)),
                          src("customer_segments", "country", t(GROUP_BY)),
                          src("customer_segments", "channel", t(GROUP_BY))])
    c = campaign_key(day)
    return cll_current(AIRFLOW, {
        "report_date": [src(c, "report_date", t(ID))],
        "channel": [src(c, "channel", t(ID))],
        "spend_usd": [src(c, "spend_usd", t(AGG, "sum(spend_usd)"))],
        "conversions": [src(c, "conversions", t(AGG, "sum(conversions)"))],
        "cost_per_conversion": [src(c, "spend_usd", t(AGG, "sum(spend_usd) / nullif(sum(conversions), 0)")),
                                src(c, "conversions", t(AGG, "sum(spend_usd) / nullif(sum(conversions), 0)"))],
    }, dataset_level=[src(c, "report_date", t(GROUP_BY), t(SORT, "ORDER BY report_date")),
                      src(c, "channel", t(GROUP_BY))])


job("refresh_marketing", "airflow", AIRFLOW_NS, "bi_refresh.refresh_marketing_dashboards", "marketing",
    parent="dag_bi_refresh", operator=LOOKER_OP,
    inputs=lambda day: [campaign_key(day), "customer_segments"],
    outputs=const("dash_campaign", "dash_audience"), cll=marketing_dash_cll)

# --------------------------------------------------------------------------------------------
# Facet builders
# --------------------------------------------------------------------------------------------

FACET_PRODUCER = {"airflow": AIRFLOW, "airflow_dag": AIRFLOW, "spark": SPARK, "dbt": DBT_CLIENT,
                  "dbt_run": DBT_CLIENT}
EVENT_PRODUCER = {"airflow": AIRFLOW, "airflow_dag": AIRFLOW, "spark": SPARK, "dbt": DBT, "dbt_run": DBT}


def owners_facet(producer, domain, job_facet=False):
    name = "OwnershipJobFacet" if job_facet else "OwnershipDatasetFacet"
    return facet(producer, furl("1-0-1", name),
                 owners=[{"name": n, "type": ty} for n, ty in DOMAIN_OWNERS[domain]])


def schema_facet(producer, fields, kind):
    if kind == "dbt":  # dbt-ol 1.23 sends SchemaDatasetFacet 1-2-0 with ordinal positions
        out = []
        for i, c in enumerate(fields, 1):
            c2 = dict(c)
            c2["ordinal_position"] = i
            out.append(c2)
        return facet(producer, furl("1-2-0", "SchemaDatasetFacet"), fields=out)
    return facet(producer, furl("1-1-1", "SchemaDatasetFacet"), fields=fields)


def dataset_facets(ds_key, kind, day, *, catalog=True, datasource=True, symlinks=True, empty_schema=False):
    """schema, optionally dataSource and symlinks, plus the catalog facets (documentation,
    ownership, tags, datasetType) when catalog=True. Alias identifiers never get catalog facets."""
    d = DS[ds_key]
    p = FACET_PRODUCER[kind]
    f = {}
    if datasource:
        f["dataSource"] = facet(p, furl("1-0-1", "DatasourceDatasetFacet"), name=d.namespace, uri=d.source_uri)
    f["schema"] = schema_facet(p, [] if empty_schema else d.fields_on(day), kind)
    if d.symlinks and symlinks:
        f["symlinks"] = facet(p, furl("1-0-1", "SymlinksDatasetFacet"), identifiers=d.symlinks)
    if d.alias or not catalog:
        return f
    f["documentation"] = facet(p, furl("1-1-0", "DocumentationDatasetFacet"), description=d.doc)
    f["ownership"] = owners_facet(p, d.domain)
    tags = [{"key": "domain", "value": d.domain, "source": "catalog"},
            {"key": "layer", "value": d.layer, "source": "catalog"}]
    for key, value, field in d.pii:
        tags.append({"key": key, "value": value, "source": "catalog", "field": field})
    f["tags"] = facet(p, furl("1-0-0", "TagsDatasetFacet"), tags=tags)
    if d.dataset_type:
        f["datasetType"] = facet(p, furl("1-0-1", "DatasetTypeDatasetFacet"), datasetType=d.dataset_type)
    return f


def stable_int(*parts, mod):
    h = hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()
    return int(h[:12], 16) % mod


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def day_str(day):
    return f"2024-03-{day:02d}"


def at(day, hh, mm, ss, jitter_key=None):
    base = dt.datetime(2024, 3, day, hh, mm, ss, tzinfo=UTC)
    if jitter_key is not None:
        base += dt.timedelta(microseconds=stable_int("jitter", jitter_key, mod=1_000_000))
    return base


def fmt_time(ts, kind):
    if kind in ("airflow", "airflow_dag"):  # 2024-03-01T01:00:12.345678+00:00
        return ts.isoformat(timespec="microseconds")
    if kind == "spark":  # 2024-03-01T02:00:41.512Z
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # dbt


def fmt_nominal(ts, kind):
    if kind in ("airflow", "airflow_dag"):
        return ts.isoformat()
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Runs and events
# --------------------------------------------------------------------------------------------


class Run:
    def __init__(self, job_key, day, start, end, *, state="COMPLETE", attempt=1, nominal=None,
                 parent_run=None, tasks_state=None):
        self.job = JOBS[job_key]
        self.day = day
        self.start = start
        self.end = end
        self.state = state
        self.attempt = attempt
        self.nominal = nominal  # (start, end)
        self.parent_run = parent_run
        self.tasks_state = tasks_state
        self.run_id = str(uuid.uuid5(UUID_NS, f"{self.job.namespace}/{self.job.name}/{day_str(day)}/{attempt}"))


def run_facets(run, event_type):
    j, kind = run.job, run.job.kind
    p = FACET_PRODUCER[kind]
    f = {"nominalTime": facet(p, furl("1-0-1", "NominalTimeRunFacet"),
                              nominalStartTime=fmt_nominal(run.nominal[0], kind),
                              nominalEndTime=fmt_nominal(run.nominal[1], kind))}
    if run.parent_run is not None:
        pr = run.parent_run
        f["parent"] = facet(p, furl("1-0-1", "ParentRunFacet"),
                            run={"runId": pr.run_id},
                            job={"namespace": pr.job.namespace, "name": pr.job.name})
    start = event_type == "START"
    if kind in ("airflow", "airflow_dag") and start:
        f["processing_engine"] = facet(p, furl("1-1-1", "ProcessingEngineRunFacet"),
                                       version="2.9.3", name="Airflow", openlineageAdapterVersion="1.14.0")
    if kind in ("airflow", "airflow_dag"):
        dag = j if kind == "airflow_dag" else JOBS[j.parent]
        dag_run_id = f"scheduled__{run.nominal[0].isoformat()}"
        if kind == "airflow_dag":
            if event_type == "START":
                f["airflowDagRun"] = facet(p, CUSTOM_RUN_FACET_URL,
                                           dag={"dag_id": dag.name,
                                                "schedule_interval": f"{run.nominal[0].minute} {run.nominal[0].hour} * * *"},
                                           dagRun={"run_id": dag_run_id, "run_type": "scheduled"})
            else:
                f["airflowState"] = facet(p, CUSTOM_RUN_FACET_URL,
                                          dagRunState="success" if event_type == "COMPLETE" else "failed",
                                          tasksState=run.tasks_state or {})
    elif kind == "spark" and start:
        f["processing_engine"] = facet(p, furl("1-1-1", "ProcessingEngineRunFacet"),
                                       version="3.5.1", name="spark", openlineageAdapterVersion="1.23.0")
        f["spark_properties"] = facet(p, CUSTOM_RUN_FACET_URL,
                                      properties={"spark.master": "yarn", "spark.app.name": j.app})
    elif kind in ("dbt", "dbt_run"):
        if start:
            f["processing_engine"] = facet(p, furl("1-1-1", "ProcessingEngineRunFacet"),
                                           version="1.8.3", name="dbt", openlineageAdapterVersion="1.23.0")
            invocation = str(uuid.uuid5(UUID_NS, f"dbt-invocation/{day_str(run.day)}"))
            f["dbt_run"] = facet(p, DBT_RUN_FACET_URL, dbt_runtime="core", invocation_id=invocation,
                                 profile_name="acme_analytics", project_name="acme_analytics",
                                 project_version="1.4.0")
    if event_type == "FAIL":
        f["errorMessage"] = facet(p, furl("1-0-1", "ErrorMessageRunFacet"), **FAILURE)
    return f


FAILURE = {
    "message": ("org.apache.spark.SparkException: Job aborted due to stage failure: Task 17 in stage 4.0 "
                "failed 4 times, most recent failure: Lost task 17.3 in stage 4.0 (TID 212) "
                "(ip-10-0-3-41.ec2.internal executor 7): com.amazonaws.services.s3.model.AmazonS3Exception: "
                "Please reduce your request rate. (Service: Amazon S3; Status Code: 503; Error Code: SlowDown)"),
    "programmingLanguage": "JAVA",
    "stackTrace": ("org.apache.spark.SparkException: Job aborted due to stage failure: Task 17 in stage 4.0 failed 4 times\n"
                   "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2856)\n"
                   "\tat org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$2(DAGScheduler.scala:2792)\n"
                   "\tat org.apache.spark.sql.execution.datasources.FileFormatWriter$.write(FileFormatWriter.scala:267)\n"
                   "\tat org.apache.spark.sql.execution.datasources.InsertIntoHadoopFsRelationCommand.run(InsertIntoHadoopFsRelationCommand.scala:191)\n"
                   "Caused by: com.amazonaws.services.s3.model.AmazonS3Exception: Please reduce your request rate. "
                   "(Service: Amazon S3; Status Code: 503; Error Code: SlowDown)\n"
                   "\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1879)\n"
                   "\t... 42 more"),
}


def job_facets(run, event_type):
    j, kind = run.job, run.job.kind
    p = EVENT_PRODUCER[kind] if kind != "dbt" else DBT  # jobType comes from the integration itself
    job_type = {"airflow": ("AIRFLOW", "TASK"), "airflow_dag": ("AIRFLOW", "DAG"), "spark": ("SPARK", "JOB"),
                "dbt": ("DBT", "MODEL"), "dbt_run": ("DBT", "JOB")}[kind]
    f = {"jobType": facet(p, furl("2-0-3", "JobTypeJobFacet"), processingType="BATCH",
                          integration=job_type[0], jobType=job_type[1])}
    fp = FACET_PRODUCER[kind]
    if event_type != "START":  # ownership and sql ride on START only
        return f
    f["ownership"] = owners_facet(fp, j.domain, job_facet=True)
    if j.sql is not None:
        dialect = "snowflake" if kind == "dbt" else "bigquery"
        f["sql"] = facet(fp, furl("1-1-0", "SQLJobFacet"), query=j.sql(run.day), dialect=dialect)
    return f


def build_event(run, event_type, when):
    j, kind = run.job, run.job.kind
    ev = {
        "eventTime": fmt_time(when, kind),
        "producer": EVENT_PRODUCER[kind],
        "schemaURL": RUN_EVENT_URL,
        "eventType": event_type,
        "run": {"runId": run.run_id, "facets": run_facets(run, event_type)},
        "job": {"namespace": j.namespace, "name": j.name, "facets": job_facets(run, event_type)},
        "inputs": [],
        "outputs": [],
    }
    start = event_type == "START"
    for ds_key in j.inputs(run.day):
        d = DS[ds_key]
        inp = {"namespace": d.namespace, "name": d.name, "facets": {}}
        if start:
            # source-layer datasets are only ever inputs, so their catalog facets ride on the reads
            is_source = d.layer == "source"
            inp["facets"] = dataset_facets(ds_key, kind, run.day, catalog=is_source,
                                           datasource=is_source or d.alias)
        if kind == "spark":
            inp["inputFacets"] = {}
        ev["inputs"].append(inp)
    for ds_key in j.outputs(run.day):
        d = DS[ds_key]
        facets = dataset_facets(ds_key, kind, run.day, catalog=start, datasource=start, symlinks=start,
                                empty_schema=(j.key == "spark_drop_backup"))
        if not start:
            c = j.cll(run.day, ds_key)
            if c is not None:
                facets["columnLineage"] = c
        lifecycle = LIFECYCLE.get(j.key)
        if lifecycle:
            facets["lifecycleStateChange"] = facet(FACET_PRODUCER[kind], furl("1-0-1", "LifecycleStateChangeDatasetFacet"),
                                                   **lifecycle)
        out = {"namespace": d.namespace, "name": d.name, "facets": facets}
        out_facets = {}
        if event_type == "COMPLETE" and d.layer != "dashboard" and lifecycle is None:
            rows = 1000 + stable_int("rows", d.name, run.day, mod=250_000)
            out_facets["outputStatistics"] = facet(FACET_PRODUCER[kind], furl("1-0-2", "OutputStatisticsOutputDatasetFacet"),
                                                   rowCount=rows, size=rows * 87)
        if out_facets or kind == "spark":
            out["outputFacets"] = out_facets
        ev["outputs"].append(out)
    return ev


LIFECYCLE = {
    "rename_campaign_perf": {"lifecycleStateChange": "RENAME",
                             "previousIdentifier": {"namespace": BIGQUERY,
                                                    "name": "acme-marketing.reporting.campaign_perf"}},
    "spark_backup_ctas": {"lifecycleStateChange": "CREATE"},
    "spark_drop_backup": {"lifecycleStateChange": "DROP"},
}

# --------------------------------------------------------------------------------------------
# Schedule
# --------------------------------------------------------------------------------------------

DAYS = range(1, 11)              # 2024-03-01 .. 2024-03-10
SPARK_BATCH_DAYS = (1, 4, 7, 10)  # the twice-weekly Spark staging batch and ar_aging
FAIL_DAY = 4                      # billing_fct_revenue_daily fails on 2024-03-04 and is re-run
BACKUP_DAY, DROP_DAY = 1, 8
OUT_OF_ORDER = ("refresh_c360", 9)  # this run's COMPLETE line is written before its START line


def schedule():
    runs = []

    def task_runs(dag_key, day, hh, tasks):
        """tasks: list of (job_key, start offset s, duration s). Returns the DAG run and task runs."""
        nominal = (at(day, hh, 0, 0), at(day, hh, 0, 0) + dt.timedelta(days=1))
        last_end = 0
        children = []
        for job_key, off, dur in tasks:
            last_end = max(last_end, off + dur)
        dag = Run(dag_key, day, at(day, hh, 0, 1, (dag_key, day, "s")),
                  at(day, hh, 0, 0, (dag_key, day, "e")) + dt.timedelta(seconds=last_end + 10),
                  nominal=nominal,
                  tasks_state={JOBS[k].name.split(".", 1)[1]: "success" for k, _, _ in tasks})
        for job_key, off, dur in tasks:
            s = at(day, hh, 0, 0, (job_key, day, "s")) + dt.timedelta(seconds=off)
            children.append(Run(job_key, day, s, s + dt.timedelta(seconds=dur), nominal=nominal, parent_run=dag))
        return [dag] + children

    for day in DAYS:
        runs += task_runs("dag_orders_ingest", day, 1, [("extract_orders", 12, 155)])
        runs += task_runs("dag_crm_ingest", day, 1, [("extract_customers", 14, 186), ("extract_consents", 211, 34)])

        spark_nominal = lambda hh, mm: (at(day, hh, mm, 0), at(day, hh, mm, 0) + dt.timedelta(days=1))
        if day in SPARK_BATCH_DAYS:
            runs.append(Run("spark_stg_invoices", day, at(day, 2, 0, 41, ("inv", day, "s")),
                            at(day, 2, 3, 12, ("inv", day, "e")), nominal=spark_nominal(2, 0)))
            runs.append(Run("spark_stg_payments", day, at(day, 2, 3, 15, ("pay", day, "s")),
                            at(day, 2, 5, 2, ("pay", day, "e")), nominal=spark_nominal(2, 0)))
            runs.append(Run("spark_stg_ad_spend", day, at(day, 2, 30, 22, ("ads", day, "s")),
                            at(day, 2, 31, 40, ("ads", day, "e")), nominal=spark_nominal(2, 30)))
            runs.append(Run("spark_stg_web_sessions", day, at(day, 2, 31, 45, ("web", day, "s")),
                            at(day, 2, 38, 10, ("web", day, "e")), nominal=spark_nominal(2, 30)))

        # dbt run at 03:00 (parent job + 5 models)
        nominal = (at(day, 3, 0, 0), at(day, 3, 0, 0) + dt.timedelta(days=1))
        dbt = Run("dbt_run", day, at(day, 3, 0, 2, ("dbt", day, "s")), at(day, 3, 2, 33, ("dbt", day, "e")),
                  nominal=nominal)
        runs.append(dbt)
        for job_key, (s_m, s_s), (e_m, e_s) in (
                ("dbt_stg_orders", (0, 10), (0, 31)),
                ("dbt_stg_customers", (0, 11), (0, 29)),
                ("dbt_fct_orders", (0, 35), (1, 20)),
                ("dbt_dim_customers", (1, 22), (1, 58)),
                ("dbt_mkt_audience", (2, 1), (2, 30))):
            runs.append(Run(job_key, day, at(day, 3, s_m, s_s, (job_key, day, "s")),
                            at(day, 3, e_m, e_s, (job_key, day, "e")), nominal=nominal, parent_run=dbt))

        # Spark billing marts at 03:30 (fct_revenue daily, ar_aging on batch days)
        if day == FAIL_DAY:
            runs.append(Run("spark_fct_revenue", day, at(day, 3, 30, 5, ("rev", day, "s")),
                            at(day, 3, 37, 12, ("rev", day, "f")), state="FAIL", nominal=spark_nominal(3, 30)))
            runs.append(Run("spark_fct_revenue", day, at(day, 5, 45, 3, ("rev", day, "s2")),
                            at(day, 5, 51, 29, ("rev", day, "e2")), attempt=2, nominal=spark_nominal(3, 30)))
        else:
            runs.append(Run("spark_fct_revenue", day, at(day, 3, 30, 5, ("rev", day, "s")),
                            at(day, 3, 36, 40, ("rev", day, "e")), nominal=spark_nominal(3, 30)))
        if day in SPARK_BATCH_DAYS:
            runs.append(Run("spark_ar_aging", day, at(day, 3, 40, 2, ("ar", day, "s")),
                            at(day, 3, 43, 10, ("ar", day, "e")), nominal=spark_nominal(3, 30)))

        mk_tasks = [("build_campaign_perf", 30, 95), ("export_audience", 135, 145)]
        if day == RENAME_DAY:
            mk_tasks.insert(0, ("rename_campaign_perf", 10, 11))
        runs += task_runs("dag_marketing_reporting", day, 5, mk_tasks)

        runs += task_runs("dag_bi_refresh", day, 7, [("refresh_orders", 10, 45), ("refresh_c360", 11, 54),
                                                     ("refresh_finance", 12, 78), ("refresh_marketing", 13, 107)])

        if day == BACKUP_DAY:
            runs.append(Run("spark_backup_ctas", day, at(day, 12, 15, 3, ("bak", day, "s")),
                            at(day, 12, 16, 40, ("bak", day, "e")), nominal=spark_nominal(12, 15)))
        if day == DROP_DAY:
            runs.append(Run("spark_drop_backup", day, at(day, 12, 5, 0, ("drop", day, "s")),
                            at(day, 12, 5, 2, ("drop", day, "e")), nominal=spark_nominal(12, 5)))
    return runs


def main(argv):
    out_path = argv[1] if len(argv) > 1 else DEFAULT_OUT
    events = []  # (time, seq, event)
    seq = 0
    ooo = None
    for run in schedule():
        for et, when in (("START", run.start), (run.state, run.end)):
            ev = build_event(run, et, when)
            events.append((when, seq, ev, run))
            seq += 1
    events.sort(key=lambda e: (e[0], e[1]))
    lines = [e[2] for e in events]
    # The one deliberate out-of-order pair: move the COMPLETE of OUT_OF_ORDER right before its START.
    for i, (_, _, ev, run) in enumerate(events):
        if (run.job.key, run.day) == OUT_OF_ORDER and ev["eventType"] == "START":
            start_idx = i
        if (run.job.key, run.day) == OUT_OF_ORDER and ev["eventType"] == "COMPLETE":
            complete_idx = i
    complete = lines.pop(complete_idx)
    lines.insert(start_idx, complete)
    with open(out_path, "w", encoding="utf-8", newline="\n") as fh:
        for ev in lines:
            fh.write(json.dumps(ev, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} events to {out_path} ({os.path.getsize(out_path)} bytes)")


if __name__ == "__main__":
    main(sys.argv)
