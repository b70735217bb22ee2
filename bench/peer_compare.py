#!/usr/bin/env python3
"""The peer, side by side: Tributary's column closure against recursive SQL on PostgreSQL.

    python3 bench/peer_compare.py --datasets 2000 --queries 200

Generates a mesh (build/mesh_gen), ingests it into a fresh store (build/tributary ingest),
serves it on a free local port, derives the column edges from the events, loads them into a
throwaway PostgreSQL cluster on a unix socket, and times the downstream closure of Q random
source columns three ways:

  marquez  Marquez's own query (ColumnLineageDao.getLineage) over Marquez's own table
           (column_lineage: one row per run and field pair, uuid keys): DISTINCT ON the field
           pair for the newest row, then WITH RECURSIVE ... UNION ALL with a path array to cut
           cycles and a depth limit of 20; seeded from the root as an input, downstream only.
  best     WITH RECURSIVE ... UNION over (node, depth), depth < 20, then min(depth) per node,
           over edges(src int, dst int) with one row per current edge.
  http     GET /api/v1/closure?nodeId=...&level=column&depth=20&edges=false over one
           keep-alive connection (--edges true: with every edge as well).

--no-marquez leaves Marquez's SQL out.

Timing is on the client (time.perf_counter): from sending a query to its whole answer read,
and separately with the client's decoding of the answer added. Both sides use an equally lean
client written here with the standard library: one persistent connection speaking the
PostgreSQL wire protocol (simple query protocol, text results), and one keep-alive HTTP/1.1
connection. Every answer is checked: the three node sets (root included) must be equal for
every root, and the distances of the best SQL must equal Tributary's.

Python 3 standard library only. Needs build/tributary, build/mesh_gen and PostgreSQL's
initdb/pg_ctl/psql (Debian: apt-get install -y postgresql).
"""
import argparse
import datetime
import gc
import glob
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
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPTH = 20


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- edges from the events

def derive_edges(path, marquez_rows=None):
    """Current column edges from the generator's NDJSON.

    For each job, the outputs of its latest COMPLETE event (by eventTime) define its column
    edges: fields[out].inputFields[] -> out, and each columnLineage.dataset[] entry -> every
    column of the output's schema facet. Node identity is (namespace, name, field); edges are
    deduplicated as (src, dst) pairs.

    With `marquez_rows` (a callable), also calls marquez_rows(event, src, dst) for every column
    edge of every event that carries column lineage, as Marquez stores them: one row per output
    dataset version, that is per run.
    """
    latest = {}  # job -> (eventTime, set of edges)
    with open(path, "rb") as f:
        for line in f:
            if b'"columnLineage"' not in line:
                continue
            ev = json.loads(line)
            complete = ev.get("eventType") == "COMPLETE"
            if not complete and marquez_rows is None:
                continue
            job = (ev["job"]["namespace"], ev["job"]["name"])
            t = ev["eventTime"]
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
            if marquez_rows is not None:
                for s, d in edges:
                    marquez_rows(ev, s, d)
            if complete and not (job in latest and latest[job][0] > t):
                latest[job] = (t, edges)
    all_edges = set()
    for _, e in latest.values():
        all_edges |= e
    return all_edges


# ---------------------------------------------------------------- a minimal HTTP/1.1 client

class HttpConn:
    """GET over one keep-alive TCP connection (TCP_NODELAY), Content-Length bodies only.

    As lean as PgConn below, so that neither side's time includes a heavier client (Python's
    http.client parses every response's headers through the email package).
    """

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.server_timing = {}  # of the last response: metric -> dur (ms)

    def get(self, path):
        """Returns (status, body)."""
        reused = self.sock is not None
        if not reused:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=600)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.rf = self.sock.makefile("rb", buffering=1 << 16)
        try:
            self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" %
                               path).encode())
            status = self.rf.readline()
        except ConnectionError:
            status = b""
        if not status:
            self.close()
            if reused:  # the server closed an idle keep-alive connection: once more
                return self.get(path)
            raise RuntimeError("the server closed the connection")
        length, close = None, False
        self.server_timing = {}
        while True:
            h = self.rf.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.partition(b":")
            k = k.strip().lower()
            if k == b"content-length":
                length = int(v)
            elif k == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by this client")
            elif k == b"connection" and v.strip().lower() == b"close":
                close = True
            elif k == b"server-timing":
                for metric in v.decode().split(","):
                    name, _, params = metric.strip().partition(";")
                    if params.startswith("dur="):
                        self.server_timing[name] = float(params[4:])
        body = self.rf.read(length) if length else b""
        if close:
            self.close()
        return int(status.split()[1]), body

    def close(self):
        if self.sock is not None:
            self.rf.close()
            self.sock.close()
            self.sock = None


class Server:
    """`tributary serve` of a store on a free local port; stopped with SIGTERM."""

    def __init__(self, tributary, store, log_dir):
        self.port = free_port()
        self.log_path = os.path.join(log_dir, "serve_%d.log" % self.port)
        self.t0 = time.perf_counter()
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [tributary, "serve", "--data", store, "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT)

    def wait_until(self, path, limit_s=600):
        """Seconds from the start until GET `path` answers 200."""
        while True:
            if self.proc.poll() is not None:
                sys.exit("tributary serve exited with %s (log: %s)" %
                         (self.proc.returncode, self.log_path))
            conn = HttpConn(self.port)
            try:
                if conn.get(path)[0] == 200:
                    return time.perf_counter() - self.t0
            except (OSError, RuntimeError):
                pass
            finally:
                conn.close()
            if time.perf_counter() - self.t0 > limit_s:
                sys.exit("tributary serve did not answer %s in %d s" % (path, limit_s))
            time.sleep(0.02)

    def get_json(self, path):
        conn = HttpConn(self.port)
        try:
            status, body = conn.get(path)
        finally:
            conn.close()
        if status != 200:
            sys.exit("GET %s -> %d %s" % (path, status, body[:300]))
        return json.loads(body)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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

    def send(self, sql):
        """Sends sql and reads the whole answer, up to ReadyForQuery, without decoding it."""
        b = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!I", len(b) + 4) + b)
        msgs = []
        while True:
            t, p = self._read()
            msgs.append((t, p))
            if t == b"Z":
                return msgs

    def rows(self, msgs, sql=""):
        """The rows of the last result in msgs, as lists of str (None for NULL)."""
        rows, error = [], None
        unpack_h, unpack_i = struct.Struct("!h").unpack_from, struct.Struct("!i").unpack_from
        for t, p in msgs:
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
        if error:
            raise RuntimeError("PostgreSQL: %s\n  in: %s" % (error, sql[:300]))
        return rows

    def query(self, sql):
        """Runs sql; returns the rows of the last result as lists of str (None for NULL)."""
        return self.rows(self.send(sql), sql)

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
    if x < 0.1:
        return "%.1f µs" % (x * 1000.0)
    return "%.3f ms" % x if x < 10 else "%.1f ms" % x


def ratio(x):
    return "%.0f×" % x if x >= 10 else "%.2f×" % x


# A bare TCP echo over loopback, in a process of its own: no protocol and no work, only what a
# round trip between two processes costs on this machine.
ECHO_SERVER = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
"""


def time_calls(fn, n, warmup):
    """ms per call of fn, n calls after `warmup` untimed ones, without cyclic GC inside."""
    for _ in range(warmup):
        fn()
    gc.collect()
    gc.disable()
    xs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1000.0)
    gc.enable()
    return xs


def echo_floor(n, warmup, size=256):
    """Round trips of `size` bytes through ECHO_SERVER, in ms."""
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE)
    try:
        port = int(proc.stdout.readline())
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        msg = b"x" * size

        def once():
            sock.sendall(msg)
            got = 0
            while got < size:
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError("the echo server closed the connection")
                got += len(chunk)
        xs = time_calls(once, n, warmup)
        sock.close()
        return xs
    finally:
        proc.kill()
        proc.wait()


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
    ap.add_argument("--fan-in", type=int, default=3,
                    help="mesh_gen --fan-in: datasets each job reads (and, on average, jobs "
                         "that read each dataset)")
    ap.add_argument("--column-inputs", type=int, default=3,
                    help="mesh_gen --column-inputs: an output column derives from 1 to N "
                         "input columns")
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
    ap.add_argument("--marquez-queries", type=int, default=0,
                    help="time Marquez's SQL on the first N roots only (it takes seconds a "
                         "query at 10^6 edges); its ratios are then against Tributary's times "
                         "on the same N roots (default: every root)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="the build directory with tributary and mesh_gen (default build)")
    ap.add_argument("--json", metavar="FILE",
                    help="also write the figures as JSON to FILE (bench/suite.py reads it)")
    args = ap.parse_args()
    if args.marquez_queries < 0 or args.marquez_queries > args.queries:
        ap.error("--marquez-queries must be from 0 to --queries")

    tributary = os.path.join(args.build, "tributary")
    mesh_gen = os.path.join(args.build, "mesh_gen")
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
                            str(args.layers), "--fan-in", str(args.fan_in), "--column-inputs",
                            str(args.column_inputs)], stdout=f,
                           check=True)
        log("mesh: %s (%.1f MB) in %.1f s" % (mesh, os.path.getsize(mesh) / 1e6,
                                             time.perf_counter() - t0))
        t0 = time.perf_counter()
        subprocess.run([tributary, "ingest", "--data", store, "--sync", "false", mesh],
                       check=True, stdout=subprocess.DEVNULL)
        ingest_s = time.perf_counter() - t0
        log("ingest: %.1f s" % ingest_s)

        server = Server(tributary, store, tmp)
        port = server.port
        log("serve: healthy on port %d after %.1f s" %
            (port, server.wait_until("/healthz", limit_s=300)))
        # cpp-httplib closes a keep-alive connection idle for 5 s: a fresh one is opened for
        # the stats call and again right before the timed closures.
        conn = HttpConn(port)

        def http_get(path):
            status, body = conn.get(path)
            if status != 200:
                raise RuntimeError("GET %s -> %d %s" % (path, status, body[:300]))
            return json.loads(body)

        # 2. edges, checked against the store's count
        t0 = time.perf_counter()
        # Marquez's column_lineage: one row per (output dataset version, output field, input
        # dataset version, input field). Every run writes a new output version; the input
        # version is the one that run read (here: one per reading run). Fields get random-
        # looking UUIDs, as Marquez's dataset_fields rows do.
        field_uuid = {}
        marquez_file = os.path.join(pgdir, "column_lineage.tsv")
        mf = None if args.no_marquez else open(marquez_file, "w")
        n_marquez = [0]

        def fuuid(n):
            u = field_uuid.get(n)
            if u is None:
                u = field_uuid[n] = str(uuid.uuid5(uuid.NAMESPACE_URL, "%s:%s:%s" % n))
            return u

        def marquez_row(ev, src, dst):
            run = ev["run"]["runId"]
            out_v = uuid.uuid5(uuid.NAMESPACE_URL, "%s:%s#%s" % (dst[0], dst[1], run))
            in_v = uuid.uuid5(uuid.NAMESPACE_URL, "%s:%s#read-by-%s" % (src[0], src[1], run))
            mf.write("%s\t%s\t%s\t%s\t%s\t%s\n" % (out_v, fuuid(dst), in_v, fuuid(src),
                                                  ev["eventTime"], ev["eventTime"]))
            n_marquez[0] += 1

        edges = derive_edges(mesh, None if mf is None else marquez_row)
        if mf is not None:
            mf.close()
        ids = {}
        for s, d in edges:
            for n in (s, d):
                if n not in ids:
                    ids[n] = len(ids)
        log("edges: %d derived from the events over %d fields (%d Marquez rows) in %.1f s" %
            (len(edges), len(ids), n_marquez[0], time.perf_counter() - t0))
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
            if mf is not None:
                os.chmod(marquez_file, 0o644)
        subprocess.run(as_pg_user([os.path.join(bindir, "initdb"), "-D", pgdata, "-A", "trust",
                                   "-U", "postgres", "-E", "UTF8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        pgport = 5432
        opts = ("-k %s -c listen_addresses='' -p %d -c shared_buffers=1GB -c work_mem=64MB "
                "-c jit=off -c fsync=off -c synchronous_commit=off -c autovacuum=off" %
                (pgdir, pgport))
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
        if mf is not None:
            # Marquez's table and indexes (migrations V49 and V59.1), text columns left NULL.
            t0 = time.perf_counter()
            pg.query("CREATE TABLE column_lineage ("
                     " output_dataset_version_uuid uuid, output_dataset_field_uuid uuid,"
                     " input_dataset_version_uuid uuid, input_dataset_field_uuid uuid,"
                     " transformation_description text, transformation_type varchar(255),"
                     " created_at timestamp NOT NULL, updated_at timestamp NOT NULL,"
                     " UNIQUE (output_dataset_version_uuid, output_dataset_field_uuid,"
                     " input_dataset_version_uuid, input_dataset_field_uuid))")
            pg.query("COPY column_lineage (output_dataset_version_uuid, "
                     "output_dataset_field_uuid, input_dataset_version_uuid, "
                     "input_dataset_field_uuid, created_at, updated_at) FROM '%s'" %
                     marquez_file)
            for col in ("output_dataset_version_uuid", "output_dataset_field_uuid",
                        "input_dataset_version_uuid", "input_dataset_field_uuid"):
                pg.query("CREATE INDEX ON column_lineage (%s)" % col)
            pg.query("VACUUM ANALYZE column_lineage")
            log("postgres: %d Marquez column_lineage rows loaded and indexed in %.1f s" %
                (n_marquez[0], time.perf_counter() - t0))

        # The tables are loaded and analysed once and never change: no autovacuum (above),
        # and the load's dirty buffers written out now rather than by the checkpointer
        # during the timed queries, which share the machine's cores.
        pg.query("CHECKPOINT")
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

        # Marquez's ColumnLineageDao.getLineage, as it runs: the newest row per field pair
        # (DISTINCT ON over the whole table), then UNION ALL with a path array of field pairs
        # to cut cycles and a depth limit. Marquez seeds the recursion with rows whose output
        # is the asked field and, with withDownstream, also follows edges out of each output;
        # a source column (no rows as an output) gets an empty graph there. For a downstream
        # closure this seeds with the rows whose input is the root and follows edges out.
        # Left out, in the peer's favour: the joins to field and dataset names at the end.
        marquez_sql = (
            "WITH RECURSIVE"
            " column_lineage_latest AS ("
            "  SELECT DISTINCT ON (output_dataset_field_uuid, input_dataset_field_uuid) *"
            "  FROM column_lineage WHERE created_at <= now()"
            "  ORDER BY output_dataset_field_uuid, input_dataset_field_uuid, updated_at DESC,"
            "  updated_at),"
            " column_lineage_recursive AS ("
            "  (SELECT *, 0 AS depth, false AS is_cycle,"
            "   ARRAY[ROW(input_dataset_field_uuid, output_dataset_field_uuid)] AS path"
            "   FROM column_lineage_latest WHERE input_dataset_field_uuid = '{r}')"
            "  UNION ALL"
            "  SELECT a.output_dataset_version_uuid, a.output_dataset_field_uuid,"
            "   a.input_dataset_version_uuid, a.input_dataset_field_uuid,"
            "   a.transformation_description, a.transformation_type, a.created_at,"
            "   a.updated_at, n.depth + 1 AS depth,"
            "   ROW(a.input_dataset_field_uuid, a.output_dataset_field_uuid) = ANY(path),"
            "   path || ROW(a.input_dataset_field_uuid, a.output_dataset_field_uuid)"
            "  FROM column_lineage_latest a, column_lineage_recursive n"
            "  WHERE a.input_dataset_field_uuid = n.output_dataset_field_uuid"
            "  AND n.depth < %d - 1 AND NOT n.is_cycle)"
            " SELECT DISTINCT output_dataset_field_uuid FROM column_lineage_recursive"
            " WHERE NOT is_cycle" % DEPTH)
        best_sql = (
            "WITH RECURSIVE closure(node, depth) AS ("
            " SELECT {r}, 0"
            " UNION"
            " SELECT e.dst, c.depth + 1 FROM closure c JOIN edges e ON e.src = c.node"
            " WHERE c.depth < %d)"
            " SELECT node, min(depth) FROM closure GROUP BY node" % DEPTH)
        node_of_uuid = {u: n for n, u in field_uuid.items()}

        # Each method sends its query and reads the whole answer (timed: the answer is at the
        # client), then decodes it (timed apart: decoding is the client's own cost, Python's
        # here, and differs in kind between JSON text and PostgreSQL rows).
        def run_marquez(root):
            sql = marquez_sql.format(r=field_uuid[root])
            msgs = pg.send(sql)
            def decode():
                nodes = {node_id(root): None}
                for r in pg.rows(msgs, sql):
                    nodes[node_id(node_of_uuid[r[0]])] = None
                return nodes
            return len(msgs), decode

        def run_best(root):
            sql = best_sql.format(r=ids[root])
            msgs = pg.send(sql)
            return len(msgs), lambda: {node_id(name_of[int(r[0])]): int(r[1])
                                       for r in pg.rows(msgs, sql)}

        def run_http(root):
            q = urllib.parse.urlencode({"nodeId": node_id(root), "level": "column",
                                        "depth": DEPTH, "edges": args.edges})
            status, body = conn.get("/api/v1/closure?" + q)
            if status != 200:
                raise RuntimeError("closure of %s -> %d %s" % (root, status, body[:300]))
            http_compute.append((conn.server_timing.get("closure"), conn.server_timing.get("json")))
            def decode():
                return {n["id"]: n["distance"] for n in json.loads(body)["nodes"]}
            return len(body), decode

        methods = [("Tributary, HTTP end to end", run_http),
                   ("PostgreSQL, best recursive SQL", run_best)]
        if not args.no_marquez:
            methods.append(("PostgreSQL, Marquez's recursive SQL", run_marquez))
        times = {m: [] for m, _ in methods}  # ms until the whole answer is at the client
        decoded = {m: [] for m, _ in methods}  # ms to that plus the client's decoding
        answers = {m: [] for m, _ in methods}
        http_bytes = []
        http_compute = []  # (walk ms, answer-writing ms) per query, from Server-Timing
        # Marquez's SQL may be timed on the first roots only (--marquez-queries).
        n_marquez_roots = args.marquez_queries or len(roots)
        for m, fn in methods:
            timed = roots[:n_marquez_roots] if fn is run_marquez else roots
            if fn is run_http:
                # cpp-httplib closes a keep-alive connection idle for 5 s
                conn.close()
            for root in roots[:args.warmup]:
                fn(root)[1]()
            # No cyclic garbage collection inside the timings: with every answer kept, a
            # full collection walks them all (as timeit does, collect before and pause it).
            gc.collect()
            gc.disable()
            t_all = time.perf_counter()
            for root in timed:
                t = time.perf_counter()
                size, decode = fn(root)
                t1 = time.perf_counter()
                a = decode()
                t2 = time.perf_counter()
                times[m].append((t1 - t) * 1000.0)
                decoded[m].append((t2 - t) * 1000.0)
                answers[m].append(a)
                if fn is run_http:
                    http_bytes.append(size)
            gc.enable()
            log("%s: %d queries in %.1f s" % (m, len(timed), time.perf_counter() - t_all))

        # compute only: the walk inside Tributary (Server-Timing) against PostgreSQL's own
        # execution time of the best SQL (EXPLAIN ANALYZE, without per-node timing; planning
        # left out, in the SQL's favour), for the same roots.
        walk = [c[0] for c in http_compute[-len(roots):]]
        walk_json = [c[0] + c[1] for c in http_compute[-len(roots):]]
        sql_exec, sql_plan = [], []
        for root in roots:
            plan = json.loads(pg.query("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " +
                                       best_sql.format(r=ids[root]))[0][0])[0]
            sql_exec.append(plan["Execution Time"])
            sql_plan.append(plan["Planning Time"])

        # Round-trip floors, with the same clients: a bare TCP echo (what a round trip between
        # two processes costs on this machine), Tributary's cheapest request and PostgreSQL's.
        def healthz():
            status, _ = conn.get("/healthz")
            if status != 200:
                raise RuntimeError("GET /healthz -> %d" % status)
        n_floor = max(len(roots), 500)
        conn.close()  # idle since the closures
        floors = [("a bare TCP echo over loopback, 256 bytes (a Python process)",
                   echo_floor(n_floor, args.warmup)),
                  ("Tributary, `GET /healthz`", time_calls(healthz, n_floor, args.warmup)),
                  ("PostgreSQL, `SELECT 1`",
                   time_calls(lambda: pg.send("SELECT 1"), n_floor, args.warmup))]

        # answers: equal node sets; equal distances between best SQL and Tributary
        mismatches = 0
        h, b = (answers[m] for m, _ in methods[:2])
        mq = answers[methods[2][0]] if len(methods) > 2 else None
        for i, root in enumerate(roots):
            problems = []
            if mq is not None and i < len(mq) and set(h[i]) != set(mq[i]):
                problems.append("Marquez's SQL node set differs (%d vs %d nodes)" %
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
        if mf is not None:
            print("Marquez's table: column_lineage, %d rows (one per run and field pair), "
                  "uuid keys, its UNIQUE constraint and one index per uuid column" %
                  n_marquez[0])
            if n_marquez_roots < len(roots):
                print("Marquez's SQL timed on the first %d roots only (--marquez-queries); "
                      "its ratios compare Tributary's times on the same roots" %
                      n_marquez_roots)
        print()
        print("Timed: from sending the query to the whole answer read by the client; "
              "'+ decode' adds the client turning it into a node set (Python: json.loads "
              "for Tributary, the row decoder for PostgreSQL).")
        print()
        print("| method | mean | p50 | p99 | + decode: mean | p50 | p99 |")
        print("|---|---|---|---|---|---|---|")
        for m, _ in methods:
            xs, ds = times[m], decoded[m]
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                m, fmt_ms(sum(xs) / len(xs)), fmt_ms(pct(xs, 50)), fmt_ms(pct(xs, 99)),
                fmt_ms(sum(ds) / len(ds)), fmt_ms(pct(ds, 50)), fmt_ms(pct(ds, 99))))
        print()
        print("| Tributary HTTP faster than | mean | p50 | p99 | + decode: mean | p50 | p99 |")
        print("|---|---|---|---|---|---|---|")

        def ratio_values(xs, th):
            # Against Tributary's times on the same roots: the first len(xs) of them.
            th = th[:len(xs)]
            return ((sum(xs) / len(xs)) / (sum(th) / len(th)), pct(xs, 50) / pct(th, 50),
                    pct(xs, 99) / pct(th, 99))

        def ratios(xs, th):
            return tuple(ratio(r) for r in ratio_values(xs, th))

        http_method = methods[0][0]
        for m, _ in methods[1:]:
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                (m.split(", ")[1],) + ratios(times[m], times[http_method]) +
                ratios(decoded[m], decoded[http_method])))
        print()
        print("Compute only, the same roots: Tributary's walk (Server-Timing closure; + json: "
              "with writing the answer) against PostgreSQL's execution time of the best SQL "
              "(EXPLAIN ANALYZE, TIMING OFF; planning, %s on average, left out)" %
              fmt_ms(sum(sql_plan) / len(sql_plan)))
        print()
        print("| compute only | mean | p50 | p99 |")
        print("|---|---|---|---|")
        for name, xs in (("Tributary, the walk", walk), ("Tributary, walk + JSON", walk_json),
                         ("PostgreSQL, best recursive SQL", sql_exec)):
            print("| %s | %s | %s | %s |" % (name, fmt_ms(sum(xs) / len(xs)), fmt_ms(pct(xs, 50)),
                                              fmt_ms(pct(xs, 99))))
        print("| best SQL / the walk | %s | %s | %s |" % ratios(sql_exec, walk))
        print("| best SQL / walk + JSON | %s | %s | %s |" % ratios(sql_exec, walk_json))
        print()
        print("Tributary's response: %.1f KB on average (%s; the SQL returns node ids only)" % (
            sum(http_bytes) / len(http_bytes) / 1024.0,
            "nodes with their distances, edges=false" if args.edges == "false" else
            "nodes, and edges with their transformations"))
        best, healthz_ms = times[methods[1][0]], floors[1][1]
        bound = {"mean": (sum(best) / len(best)) / (sum(healthz_ms) / len(healthz_ms)),
                 "p50": pct(best, 50) / pct(healthz_ms, 50),
                 "p99": pct(best, 99) / pct(healthz_ms, 99)}
        print()
        print("Round-trip floors, the same clients, %d requests each after %d warm-up ones:" %
              (n_floor, args.warmup))
        print()
        print("| floor | mean | p50 | p99 |")
        print("|---|---|---|---|")
        for name, xs in floors:
            print("| %s | %s | %s | %s |" % (name, fmt_ms(sum(xs) / len(xs)),
                                              fmt_ms(pct(xs, 50)), fmt_ms(pct(xs, 99))))
        print()
        print("The best SQL's p50 is %s that of Tributary's cheapest request (`GET /healthz`), "
              "and its p99 %s. A round trip between two processes whose ends run on one vCPU "
              "costs a context switch or two; on two vCPUs of a virtual machine it also pays "
              "for waking the other one, and which of the two happens is the scheduler's "
              "choice." % (ratio(bound["p50"]), ratio(bound["p99"])))
        if args.json:
            def summary(xs):
                return {"mean_ms": sum(xs) / len(xs), "p50_ms": pct(xs, 50),
                        "p99_ms": pct(xs, 99), "queries": len(xs)}

            def faster(xs, th):
                return dict(zip(("mean", "p50", "p99"), ratio_values(xs, th)))

            keys = {http_method: "tributary_http", methods[1][0]: "best_sql"}
            if len(methods) > 2:
                keys[methods[2][0]] = "marquez_sql"
            figures = {
                "command": "python3 bench/peer_compare.py " + " ".join(sys.argv[1:]),
                "postgresql": pg_version,
                "datasets": args.datasets, "column_edges": len(edges), "fields": len(ids),
                "queries": len(roots), "answer_nodes_avg": sum(sizes) / len(sizes),
                "answer_nodes_max": max(sizes), "mismatches": mismatches,
                "end_to_end": {keys[m]: summary(times[m]) for m, _ in methods},
                "faster_end_to_end": {keys[m]: faster(times[m], times[http_method])
                                      for m, _ in methods[1:]},
                "compute_only": {"walk": summary(walk), "walk_json": summary(walk_json),
                                 "best_sql_execution": summary(sql_exec)},
                "faster_compute_only": {"walk": faster(sql_exec, walk),
                                        "walk_json": faster(sql_exec, walk_json)},
                "floors": {"tcp_echo": summary(floors[0][1]), "healthz": summary(floors[1][1]),
                           "select_1": summary(floors[2][1])},
                # the best SQL's end-to-end times over those of GET /healthz
                "best_sql_over_healthz": bound,
            }
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)
        pg.close()
        conn.close()
        if mismatches and not args.keep_going:
            return 1
        return 0
    finally:
        if server is not None:
            server.stop()
        if pg_started:
            subprocess.run(as_pg_user([os.path.join(bindir, "pg_ctl"), "-D", pgdata, "-w",
                                       "-m", "fast", "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(pgdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
