"""Drives psycopg 3 against Sluice's pgwire listener; prints key=value lines the Node test asserts."""
import datetime
import decimal
import sys
import threading
import time

import psycopg


def out(k, v):
    print(f"{k}={v}", flush=True)


def main():
    mode, conninfo = sys.argv[1], sys.argv[2]
    if mode == "login":
        try:
            with psycopg.connect(conninfo) as conn:
                out("login", "ok")
        except psycopg.OperationalError as e:
            out("message", str(e).replace("\n", " "))
        return
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if mode == "types":
            for binary in (False, True):
                with conn.cursor(binary=binary) as cur:
                    cur.execute(
                        "SELECT %s::INTEGER AS i, %s::BIGINT AS b, %s::DECIMAL(20,4) AS d, %s::DOUBLE AS f, %s AS t, %s AS s, "
                        "%s::DATE AS dt, %s::TIMESTAMP AS ts, %s::TIMESTAMPTZ AS tz, [1, 2, NULL]::INTEGER[] AS arr, NULL::VARCHAR AS n",
                        (42, 9007199254740993, decimal.Decimal("12345678901234.5678"), 0.1, True, "it's ünïcødé",
                         datetime.date(2024, 2, 29), datetime.datetime(2024, 3, 1, 12, 34, 56, 789000), "2024-03-01 12:00:00+02"),
                    )
                    row = cur.fetchone()
                    p = "bin." if binary else "txt."
                    for name, value in zip([d.name for d in cur.description], row):
                        out(p + name, f"{type(value).__name__}:{value!r}")
        elif mode == "cancel":
            def later():
                time.sleep(2.5)
                conn.cancel()
            threading.Thread(target=later).start()
            start = time.time()
            try:
                conn.execute("SELECT count(*) FROM range(2000000000) a, range(1000) b")
                out("cancel", "completed")
            except psycopg.errors.QueryCanceled as e:
                out("cancel.sqlstate", e.sqlstate)
                out("cancel.ms", int((time.time() - start) * 1000))
            out("after_cancel", conn.execute("SELECT 'still usable'").fetchone()[0])
        elif mode == "prepared":
            with conn.cursor() as cur:
                total = 0
                for i in range(6):
                    cur.execute("SELECT %s::INTEGER * 2 AS x", (i,), prepare=True)
                    total += cur.fetchone()[0]
                out("prepared.total", total)


main()
