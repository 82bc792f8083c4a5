"""psycopg2 or psycopg 3 against a Sluice server: DDL, parameters, types,
a view over a table, and errors with their SQLSTATE.

Usage: psycopg_client.py psycopg2|psycopg DSN
"""
import datetime
import decimal
import sys

from checks import expect, run

driver, dsn = sys.argv[1], sys.argv[2]
if driver == "psycopg2":
    import psycopg2 as db

    conn = db.connect(dsn)
    conn.autocommit = True

    def sqlstate(e):
        return e.pgcode
else:
    import psycopg as db

    conn = db.connect(dsn, autocommit=True)

    def sqlstate(e):
        return e.sqlstate

table = f"orders_{driver}"
view = f"totals_{driver}"


def query(sql, params=None):
    cur = conn.cursor()
    cur.execute(sql, params)
    return cur


def create_table_and_view():
    query(f"""CREATE TABLE {table} (id BIGINT PRIMARY KEY, customer VARCHAR, amount NUMERIC,
        price DOUBLE PRECISION, paid BOOLEAN, at TIMESTAMP, day DATE, note JSONB, raw BYTEA)""")
    query(f"""CREATE MATERIALIZED VIEW {view} AS
        SELECT customer, count(*) AS n, sum(price) AS total FROM {table} GROUP BY customer""")


def insert_with_parameters():
    rows = [
        (1, "ada", decimal.Decimal("12.50"), 1.5, True, datetime.datetime(2026, 1, 1, 12, 30),
         datetime.date(2026, 1, 1), '{"k": [1, 2]}', b"\x00\xff"),
        (2, "ada", decimal.Decimal("3"), 2.25, False, datetime.datetime(2026, 1, 2, 0, 0, 0, 500000),
         datetime.date(2026, 1, 2), '{}', b""),
        (3, "bob", None, 4.0, None, None, None, None, None),
    ]
    cur = conn.cursor()
    for r in rows:
        cur.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", r)
        expect(cur.rowcount, 1, "rowcount of INSERT")


def select_types():
    got = query(f"SELECT id, customer, amount, price, paid, at, day, note, raw FROM {table} WHERE id = %s",
                (1,)).fetchall()
    expect(len(got), 1, "rows")
    r = got[0]
    expect(r[0], 1, "bigint")
    expect(r[1], "ada", "varchar")
    expect(r[2], decimal.Decimal("12.5"), "numeric")
    expect(r[3], 1.5, "double precision")
    expect(r[4], True, "boolean")
    expect(r[5], datetime.datetime(2026, 1, 1, 12, 30), "timestamp")
    expect(r[6], datetime.date(2026, 1, 1), "date")
    expect(r[7], {"k": [1, 2]}, "jsonb")
    expect(bytes(r[8]), b"\x00\xff", "bytea")


def select_nulls():
    got = query(f"SELECT amount, paid, at, day, note, raw FROM {table} WHERE id = %s", (3,)).fetchone()
    expect(got, (None,) * 6, "NULLs")


def select_view():
    got = query(f"SELECT customer, n, total FROM {view} ORDER BY customer").fetchall()
    expect(got, [("ada", 2, 3.75), ("bob", 1, 4.0)], "view rows")


def view_follows_update():
    query(f"UPDATE {table} SET customer = %s WHERE id = %s", ("bob", 2))
    got = query(f"SELECT customer, n FROM {view} ORDER BY customer").fetchall()
    expect(got, [("ada", 1), ("bob", 2)], "view after UPDATE")


def parameter_types():
    got = query("SELECT %s::int + 1, %s::text, %s::float8 * 2, %s::bool, %s::date",
                (41, "x", 1.25, False, datetime.date(2026, 2, 3))).fetchone()
    expect(got, (42, "x", 2.5, False, datetime.date(2026, 2, 3)), "parameters")


def describe_columns():
    cur = query(f"SELECT id, customer, at FROM {table} WHERE false")
    expect([d[0] for d in cur.description], ["id", "customer", "at"], "column names")


def error_undefined_table():
    try:
        query("SELECT * FROM no_such_table")
    except db.Error as e:
        expect(sqlstate(e), "42P01", "SQLSTATE")
        return
    raise AssertionError("no error")


def error_division_by_zero():
    try:
        query("SELECT 1 / %s", (0,)).fetchall()
    except db.Error as e:
        expect(sqlstate(e), "22012", "SQLSTATE")
        return
    raise AssertionError("no error")


def error_unique_violation():
    try:
        query(f"INSERT INTO {table} (id, customer) VALUES (%s, %s)", (1, "dup"))
    except db.Error as e:
        expect(sqlstate(e), "23505", "SQLSTATE")
        return
    raise AssertionError("no error")


def usable_after_errors():
    expect(query("SELECT 1").fetchone(), (1,), "SELECT 1 after errors")


run([create_table_and_view, insert_with_parameters, select_types, select_nulls, select_view,
     view_follows_update, parameter_types, describe_columns, error_undefined_table,
     error_division_by_zero, error_unique_violation, usable_after_errors])
