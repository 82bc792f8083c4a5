"""SQLAlchemy's inspector (reflection) against a Sluice server, through
psycopg2: the catalog queries of get_table_names, get_view_names,
get_materialized_view_names, get_columns and get_pk_constraint.

SQLAlchemy 1.4 (Debian's) has no get_materialized_view_names; its
get_view_names(include=("materialized",)) runs the same query.

Usage: sqlalchemy_inspect.py URL (postgresql+psycopg2://user@host:port/db)
"""
import sys

import sqlalchemy as sa

from checks import expect, run

engine = sa.create_engine(sys.argv[1])
with engine.connect() as conn:
    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.execute(sa.text("CREATE TABLE sa_users (id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, born DATE)"))
    conn.execute(sa.text("CREATE MATERIALIZED VIEW sa_births AS SELECT born, count(*) AS n FROM sa_users GROUP BY born"))
insp = sa.inspect(engine)


def get_table_names():
    expect(insp.get_table_names(), ["sa_users"], "tables")


def get_view_names():
    # PostgreSQL lists plain views only; a materialized view is not one.
    names = insp.get_view_names()
    if sa.__version__.startswith("1."):
        names = insp.get_view_names(include=("plain",))
    expect(names, [], "plain views")


def get_materialized_view_names():
    if hasattr(insp, "get_materialized_view_names"):
        names = insp.get_materialized_view_names()
    else:
        names = insp.get_view_names(include=("materialized",))
    expect(names, ["sa_births"], "materialized views")


def get_columns():
    cols = [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns("sa_users")]
    expect(cols, [("id", "BIGINT", False), ("name", "VARCHAR", False), ("born", "DATE", True)], "columns")


def get_columns_of_materialized_view():
    cols = [(c["name"], str(c["type"])) for c in insp.get_columns("sa_births")]
    expect(cols, [("born", "DATE"), ("n", "BIGINT")], "columns")


def get_pk_constraint():
    pk = insp.get_pk_constraint("sa_users")
    expect(pk["constrained_columns"], ["id"], "primary key columns")
    expect(pk["name"], "sa_users_pkey", "primary key name")


def get_pk_constraint_of_materialized_view():
    expect(insp.get_pk_constraint("sa_births")["constrained_columns"], [], "primary key columns")


run([get_table_names, get_view_names, get_materialized_view_names, get_columns,
     get_columns_of_materialized_view, get_pk_constraint, get_pk_constraint_of_materialized_view])
