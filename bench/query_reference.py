#!/usr/bin/env python3
"""Reference for the admin queries: the exact statements the API runs (captured from the
worker's own query code), executed with python's sqlite3 against a copy of the seeded D1 file
whose take_part_in secondary indexes were dropped. Prints, per query, the time of its
statements run back to back (median of up to 3 runs) and each statement's EXPLAIN QUERY PLAN.
Input: a JSON job on stdin: {"db": path, "queries": [{"name", "statements": [{"sql", "params"}]}]}.
"""
import json
import sqlite3
import statistics
import sys
import time


def plan(con, sql, params):
    return [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params)]


def main():
    job = json.load(sys.stdin)
    con = sqlite3.connect(f"file:{job['db']}?mode=ro", uri=True)
    out = {"sqlite": sqlite3.sqlite_version, "queries": []}
    budget_s = job.get("budget_s", 3.0)
    for q in job["queries"]:
        times = []
        spent = 0.0
        while len(times) < 3 and (not times or spent + times[-1] / 1000 < budget_s):
            t0 = time.perf_counter()
            for s in q["statements"]:
                con.execute(s["sql"], s["params"]).fetchall()
            dt = time.perf_counter() - t0
            spent += dt
            times.append(dt * 1000)
        out["queries"].append({
            "name": q["name"],
            "runs": len(times),
            "median_ms": statistics.median(times),
            "plans": [plan(con, s["sql"], s["params"]) for s in q["statements"]],
        })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
