#!/usr/bin/env python3
"""The peer, side by side: Tributary's column closure against recursive SQL on PostgreSQL.

    python3 bench/peer_compare.py --datasets 2000 --queries 200

Generates a mesh (build/mesh_gen), ingests it into a fresh store (build/tributary ingest),
serves it on a free local port, derives the current column edges from the events, loads them
into a throwaway PostgreSQL cluster on a unix socket, and times the downstream closure of Q
random source columns three ways:

  marquez  WITH RECURSIVE ... UNION ALL with a path array to cut cycles and a depth limit of
           20, then SELECT DISTINCT node (the shape of Marquez's ColumnLineageDao).
  best     WITH RECURSIVE ... UNION over (node, depth), depth < 20, then min(depth) per node.
  http     GET /api/v1/closure?nodeId=...&level=column&depth=20&edges=false over one
           keep-alive connection, JSON parsed (--edges true: with every edge as well).

--no-marquez leaves the Marquez-style SQL out: on deep meshes its path arrays multiply until
the disk is full.

All timings are taken on the client with time.perf_counter around one request and the whole
answer. SQL goes through one persistent connection speaking the PostgreSQL wire protocol
(simple query protocol, text results, implemented here with the standard library), so there is
no process start-up or psql formatting in the SQL times; the client cost is the same kind as on
the HTTP side (send, wait, read and decode the rows). Every answer is checked: the three node
sets (root included) must be equal for every root, and the distances of the best SQL must equal
Tributary's.

Python 3 standard library only. Needs build/tributary, build/mesh_gen and PostgreSQL's
initdb/pg_ctl/psql (Debian: apt-get install -y postgresql).
"""
import argparse
import datetime
import glob
import http.client
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPTH = 20


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- edges from the events

def derive_edges(path):
    """Current column edges from the generator's NDJSON.

    For each job, the outputs of its latest COMPLETE event (by eventTime) define its column
    edges: fields[out].inputFields[] -> out, and each columnLineage.dataset[] entry -> every
    column of the output's schema facet. Node identity is (namespace, name, field); edges are
    deduplicated as (src, dst) pairs.
    """
    latest = {}  # job -> (eventTime, set of edges)
    with open(path, "rb") as f:
        for line in f:
            if b'"eventType":"COMPLETE"' not in line:
                continue
            ev = json.loads(line)
            if ev.get("eventType") != "COMPLETE":
                continue
            job = (ev["job"]["namespace"], ev["job"]["name"])
            t = ev["eventTime"]
            if job in latest and latest[job][0] > t:
                continue
            edges = set()
            for out in ev.get("outputs", []):
                facets = out.get("facets", {})
                cl = facets.get("columnLineage")
                if not cl:
                    continue
                ons, oname = out["namespace"], out["name"]
                for ofield, spec in cl.get("fields", {}).items():
                    for inp in spec.get("inputFields", []):
                        edges.add(((inp["namespace"], inp["name"], inp["field"]),
                                   (ons, oname, ofield)))
                wide = cl.get("dataset", [])
                if wide:
                    cols = [c["name"] for c in facets.get("schema", {}).get("fields", [])]
                    for inp in wide:
                        src = (inp["namespace"], inp["name"], inp["field"])
                        for c in cols:
                            edges.add((src, (ons, oname, c)))
            latest[job] = (t, edges)
    all_edges = set()
    for _, e in latest.values():
        all_edges |= e
    return all_edges


# ---------------------------------------------------------------- a minimal PostgreSQL client

class PgConn:
    """Simple query protocol over a unix socket, trust authentication, text results."""

    def __init__(self, sockdir, port, user="postgres", database="postgres"):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.path.join(sockdir, ".s.PGSQL.%d" % port))
        self.rf = self.sock.makefile("rb", buffering=1 << 16)
        params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
        body = struct.pack("!I", 196608) + params
        self.sock.sendall(struct.pack("!I", len(body) + 4) + body)
        while True:
            t, payload = self._read()
            if t == b"R":
                if struct.unpack("!I", payload[:4])[0] != 0:
                    raise RuntimeError("PostgreSQL asks for a password; trust auth expected")
            elif t == b"E":
                raise RuntimeError("PostgreSQL: " + self._err(payload))
            elif t == b"Z":
                break

    def _read(self):
        hdr = self.rf.read(5)
        if len(hdr) < 5:
            raise RuntimeError("PostgreSQL closed the connection")
        n = struct.unpack("!I", hdr[1:5])[0]
        return hdr[:1], self.rf.read(n - 4)

    @staticmethod
    def _err(payload):
        parts = {}
        for item in payload.split(b"\0"):
            if item:
                parts[item[:1]] = item[1:].decode(errors="replace")
        return parts.get(b"M", "?")

    def query(self, sql):
        """Runs sql; returns the rows of the last result as lists of str (None for NULL)."""
        b = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!I", len(b) + 4) + b)
        rows, error = [], None
        unpack_h, unpack_i = struct.Struct("!h").unpack_from, struct.Struct("!i").unpack_from
        while True:
            t, p = self._read()
            if t == b"D":
                n = unpack_h(p, 0)[0]
                off, row = 2, []
                for _ in range(n):
                    ln = unpack_i(p, off)[0]
                    off += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(p[off:off + ln].decode())
                        off += ln
                rows.append(row)
            elif t == b"T":
                rows = []
            elif t == b"E":
                error = self._err(p)
            elif t == b"Z":
                break
        if error:
            raise RuntimeError("PostgreSQL: %s\n  in: %s" % (error, sql[:300]))
        return rows

    def close(self):
        try:
            self.sock.sendall(b"X" + struct.pack("!I", 4))
        except OSError:
            pass
        self.rf.close()
        self.sock.close()


def pg_bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    if shutil.which("initdb"):
        return os.path.dirname(os.path.realpath(shutil.which("initdb")))
    return None


def ensure_postgres():
    d = pg_bindir()
    if d:
        return d
    log("PostgreSQL not found: apt-get install -y postgresql")
    subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True)
    d = pg_bindir()
    if not d:
        sys.exit("initdb still not found after installing postgresql")
    return d


def as_pg_user(cmd):
    """initdb and pg_ctl refuse to run as root: run them as the postgres OS user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


# ---------------------------------------------------------------- helpers

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(xs, p):
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def fmt_ms(x):
    return "%.3f ms" % x if x < 10 else "%.1f ms" % x


def ratio(x):
    return "%.0f×" % x if x >= 10 else "%.2f×" % x


def first_line(path, prefix):
    """The rest of the first line of `path` that starts with `prefix`, or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line[len(prefix):]
    except OSError:
        pass
    return None


def machine_info():
    cpu = first_line("/proc/cpuinfo", "model name")
    cpu = cpu.split(":", 1)[1].strip() if cpu else "?"
    mem = first_line("/proc/meminfo", "MemTotal:")
    mem = "%.1f GiB" % (int(mem.split()[0]) / 1048576) if mem else "?"
    osname = first_line("/etc/os-release", "PRETTY_NAME=")
    osname = osname.strip().strip('"') if osname else "?"
    return "%s, %d vCPUs, %s RAM, %s, kernel %s" % (cpu, os.cpu_count() or 0, mem, osname,
                                                    platform.release())


# ---------------------------------------------------------------- main

def main():
    # A SIGTERM (e.g. from `timeout`) unwinds through the finally blocks, so the server and
    # the cluster are stopped and the temp dirs removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=int, default=2000)
    ap.add_argument("--layers", type=int, default=4, help="mesh_gen --layers: lineage depth")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=42, help="seed for picking the roots")
    ap.add_argument("--warmup", type=int, default=20, help="untimed queries per method first")
    ap.add_argument("--keep-going", action="store_true", help="do not fail on mismatches")
    ap.add_argument("--edges", choices=["true", "false"], default="false",
                    help="Tributary's edges parameter: false answers nodes and distances only, "
                         "like the SQL (default); true adds every edge with its job, "
                         "transformations and interval")
    ap.add_argument("--no-marquez", action="store_true",
                    help="skip the Marquez-style SQL (its path arrays cannot finish on deep meshes)")
    args = ap.parse_args()

    tributary = os.path.join(ROOT, "build", "tributary")
    mesh_gen = os.path.join(ROOT, "build", "mesh_gen")
    for b in (tributary, mesh_gen):
        if not os.access(b, os.X_OK):
            sys.exit("missing %s: build the project first" % b)
    bindir = ensure_postgres()

    tmp = tempfile.mkdtemp(prefix="peer_compare_")
    pgdir = tempfile.mkdtemp(prefix="peer_pg_")
    server = None
    pg_started = False
    pgdata = os.path.join(pgdir, "data")
    try:
        # 1. mesh, ingest, serve
        mesh = os.path.join(tmp, "mesh.ndjson")
        store = os.path.join(tmp, "store")
        t0 = time.perf_counter()
        with open(mesh, "wb") as f:
            subprocess.run([mesh_gen, "--datasets", str(args.datasets), "--layers",
                            str(args.layers)], stdout=f, check=True)
        log("mesh: %s (%.1f MB) in %.1f s" % (mesh, os.path.getsize(mesh) / 1e6,
                                             time.perf_counter() - t0))
        t0 = time.perf_counter()
        subprocess.run([tributary, "ingest", "--data", store, "--sync", "false", mesh],
                       check=True, stdout=subprocess.DEVNULL)
        ingest_s = time.perf_counter() - t0
        log("ingest: %.1f s" % ingest_s)

        port = free_port()
        server_log = open(os.path.join(tmp, "server.log"), "wb")
        server = subprocess.Popen([tributary, "serve", "--data", store, "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=server_log,
                                  stderr=subprocess.STDOUT)
        t0 = time.perf_counter()
        while True:
            if server.poll() is not None:
                sys.exit("tributary serve exited with %s (log: %s)" %
                         (server.returncode, server_log.name))
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - t0 > 300:
                sys.exit("tributary serve did not become healthy in 300 s")
            time.sleep(0.1)
        log("serve: healthy on port %d after %.1f s" % (port, time.perf_counter() - t0))
        # cpp-httplib closes a keep-alive connection idle for 5 s: a fresh one is opened for
        # the stats call and again right before the timed closures.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

        def http_get(path):
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError("GET %s -> %d %s" % (path, r.status, body[:300]))
            return json.loads(body)

        # 2. edges, checked against the store's count
        t0 = time.perf_counter()
        edges = derive_edges(mesh)
        ids = {}
        for s, d in edges:
            for n in (s, d):
                if n not in ids:
                    ids[n] = len(ids)
        log("edges: %d derived from the events over %d fields in %.1f s" %
            (len(edges), len(ids), time.perf_counter() - t0))
        stats = http_get("/api/v1/stats")
        log("stats: columnEdges %s, fields %s" % (stats.get("columnEdges"), stats.get("fields")))
        print("column edges: derived from the events %d, Tributary /api/v1/stats columnEdges %s"
              % (len(edges), stats.get("columnEdges")))
        if stats.get("columnEdges") != len(edges):
            print("  WARNING: the edge counts differ")
        edge_file = os.path.join(pgdir, "edges.tsv")
        with open(edge_file, "w") as f:
            f.writelines("%d\t%d\n" % (ids[s], ids[d]) for s, d in edges)

        # 3. PostgreSQL: a throwaway cluster on a unix socket only
        if os.geteuid() == 0:
            shutil.chown(pgdir, "postgres", "postgres")
            os.chmod(edge_file, 0o644)
        subprocess.run(as_pg_user([os.path.join(bindir, "initdb"), "-D", pgdata, "-A", "trust",
                                   "-U", "postgres", "-E", "UTF8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        pgport = 5432
        opts = ("-k %s -c listen_addresses='' -p %d -c shared_buffers=1GB -c work_mem=64MB "
                "-c jit=off -c fsync=off -c synchronous_commit=off" % (pgdir, pgport))
        subprocess.run(as_pg_user([os.path.join(bindir, "pg_ctl"), "-D", pgdata, "-w", "-l",
                                   os.path.join(pgdir, "pg.log"), "-o", opts, "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        pg_started = True
        pg = PgConn(pgdir, pgport)
        pg_version = pg.query("SHOW server_version")[0][0]
        t0 = time.perf_counter()
        pg.query("CREATE TABLE edges (src int NOT NULL, dst int NOT NULL)")
        pg.query("COPY edges FROM '%s'" % edge_file)
        pg.query("CREATE INDEX edges_src_dst ON edges (src, dst)")
        pg.query("CREATE INDEX edges_dst ON edges (dst)")
        pg.query("VACUUM ANALYZE edges")
        n_pg = int(pg.query("SELECT count(*) FROM edges")[0][0])
        log("postgres %s: %d edges loaded and indexed in %.1f s" %
            (pg_version, n_pg, time.perf_counter() - t0))
        assert n_pg == len(edges)

        # 4. roots: columns of first-layer datasets (warehouse.public.d<i>, i < N/layers)
        per_layer = max(1, args.datasets // args.layers)
        first = set()
        for s, _ in edges:
            nm = s[1]
            if nm.startswith("warehouse.public.d") and int(nm[len("warehouse.public.d"):]) \
                    < per_layer:
                first.add(s)
        first = sorted(first)
        rng = random.Random(args.seed)
        roots = [first[rng.randrange(len(first))] for _ in range(args.queries)]
        name_of = {v: k for k, v in ids.items()}

        def node_id(n):
            return "datasetField:%s:%s:%s" % n

        marquez_sql = (
            "WITH RECURSIVE closure(node, depth, path) AS ("
            " SELECT {r}, 0, ARRAY[{r}]"
            " UNION ALL"
            " SELECT e.dst, c.depth + 1, c.path || e.dst"
            " FROM closure c JOIN edges e ON e.src = c.node"
            " WHERE c.depth < %d AND NOT e.dst = ANY(c.path))"
            " SELECT DISTINCT node FROM closure" % DEPTH)
        best_sql = (
            "WITH RECURSIVE closure(node, depth) AS ("
            " SELECT {r}, 0"
            " UNION"
            " SELECT e.dst, c.depth + 1 FROM closure c JOIN edges e ON e.src = c.node"
            " WHERE c.depth < %d)"
            " SELECT node, min(depth) FROM closure GROUP BY node" % DEPTH)

        def run_marquez(root):
            rows = pg.query(marquez_sql.format(r=ids[root]))
            return {node_id(name_of[int(r[0])]): None for r in rows}

        def run_best(root):
            rows = pg.query(best_sql.format(r=ids[root]))
            return {node_id(name_of[int(r[0])]): int(r[1]) for r in rows}

        http_split = []  # (ms until the whole body is read, body bytes) per timed query

        def run_http(root):
            q = urllib.parse.urlencode({"nodeId": node_id(root), "level": "column",
                                        "depth": DEPTH, "edges": args.edges})
            if conn.sock is None:
                conn.connect()  # outside the timing: a server may close idle connections
            t = time.perf_counter()
            conn.request("GET", "/api/v1/closure?" + q)
            r = conn.getresponse()
            body = r.read()
            http_split.append(((time.perf_counter() - t) * 1000.0, len(body)))
            if r.status != 200:
                raise RuntimeError("closure of %s -> %d %s" % (root, r.status, body[:300]))
            ans = json.loads(body)
            return {n["id"]: n["distance"] for n in ans["nodes"]}

        methods = [("Tributary, HTTP end to end", run_http),
                   ("PostgreSQL, best recursive SQL", run_best)]
        if not args.no_marquez:
            methods.append(("PostgreSQL, Marquez-style recursive SQL", run_marquez))
        times = {m: [] for m, _ in methods}
        answers = {m: [] for m, _ in methods}
        for m, fn in methods:
            if fn is run_http:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            for root in roots[:args.warmup]:
                fn(root)
            t_all = time.perf_counter()
            for root in roots:
                t = time.perf_counter()
                a = fn(root)
                times[m].append((time.perf_counter() - t) * 1000.0)
                answers[m].append(a)
            log("%s: %d queries in %.1f s" % (m, len(roots), time.perf_counter() - t_all))

        # answers: equal node sets; equal distances between best SQL and Tributary
        mismatches = 0
        h, b = (answers[m] for m, _ in methods[:2])
        mq = answers[methods[2][0]] if len(methods) > 2 else None
        for i, root in enumerate(roots):
            problems = []
            if mq is not None and set(h[i]) != set(mq[i]):
                problems.append("Marquez-style SQL node set differs (%d vs %d nodes)" %
                                (len(mq[i]), len(h[i])))
            if set(h[i]) != set(b[i]):
                problems.append("best SQL node set differs (%d vs %d nodes)" %
                                (len(b[i]), len(h[i])))
            elif h[i] != b[i]:
                problems.append("best SQL distances differ")
            if problems:
                mismatches += 1
                if mismatches <= 10:
                    print("MISMATCH for %s: %s" % (node_id(root), "; ".join(problems)))
        sizes = [len(a) for a in h]

        # 5. report
        print()
        print("command: python3 bench/peer_compare.py " + " ".join(sys.argv[1:]))
        print("date: %s" % datetime.datetime.now(datetime.timezone.utc)
              .strftime("%Y-%m-%d %H:%M UTC"))
        print("machine: %s" % machine_info())
        print("PostgreSQL %s (unix socket; shared_buffers=1GB, work_mem=64MB, jit=off; "
              "edges(src int, dst int), indexes (src, dst) and (dst), VACUUM ANALYZE)"
              % pg_version)
        print("mesh: %d datasets, %d column edges, %d fields; ingest %.1f s" %
              (args.datasets, len(edges), len(ids), ingest_s))
        print("queries: %d downstream column closures, depth %d, random first-layer roots "
              "(seed %d, %d distinct), answer %.1f nodes on average (max %d), root included; "
              "%d warm-up queries per method first" %
              (len(roots), DEPTH, args.seed, len(set(roots)), sum(sizes) / len(sizes),
               max(sizes), args.warmup))
        print("answers: %d of %d roots with a mismatch between the %d methods" %
              (mismatches, len(roots), len(methods)))
        print()
        print("| method | mean | p50 | p99 |")
        print("|---|---|---|---|")
        for m, _ in methods:
            xs = times[m]
            print("| %s | %s | %s | %s |" % (m, fmt_ms(sum(xs) / len(xs)), fmt_ms(pct(xs, 50)),
                                              fmt_ms(pct(xs, 99))))
        print()
        th = times[methods[0][0]]
        print("| Tributary HTTP faster than | mean | p50 | p99 |")
        print("|---|---|---|---|")
        for m, _ in methods[1:]:
            xs = times[m]
            print("| %s | %s | %s | %s |" % (
                m.split(", ")[1], ratio((sum(xs) / len(xs)) / (sum(th) / len(th))),
                ratio(pct(xs, 50) / pct(th, 50)), ratio(pct(xs, 99) / pct(th, 99))))
        sp = http_split[-len(roots):]
        wire = [x[0] for x in sp]
        print("Tributary HTTP without the client's JSON parse (request sent to last byte read): "
              "mean %s, p50 %s, p99 %s; response %.1f KB on average (%s; the SQL returns "
              "node ids only)" % (
                  fmt_ms(sum(wire) / len(wire)), fmt_ms(pct(wire, 50)), fmt_ms(pct(wire, 99)),
                  sum(x[1] for x in sp) / len(sp) / 1024.0,
                  "nodes with their distances, edges=false" if args.edges == "false" else
                  "nodes, and edges with their transformations"))
        print()
        print("Tributary compute only is not reachable from here: see docs/benchmarks.md "
              "(build/lineage_bench, column closure).")
        pg.close()
        conn.close()
        if mismatches and not args.keep_going:
            return 1
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if pg_started:
            subprocess.run(as_pg_user([os.path.join(bindir, "pg_ctl"), "-D", pgdata, "-w",
                                       "-m", "fast", "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(pgdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
