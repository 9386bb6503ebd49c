"""The things measured: direct (no proxy), Fulcrum, HAProxy and NGINX, configured alike.

Every proxy gets three front ends: HTTP to the 64 B backends, HTTP to the 16 KiB backends
(round robin, keep-alive to the servers, X-Forwarded-For added, no logging, no health checks)
and TCP to the command-mode backends. One worker thread or process, pinned to PROXY_CORE.
"""
import os, shutil, subprocess

from procs import family, free_port, spawn, stop, wait_listening

FRONTS = ("http64", "http16k", "tcp")


class Backends:
    """Three fulcrum-testbackend processes per kind, on the load core."""

    def __init__(self, build, workdir):
        self.procs, self.addrs = [], {"http64": [], "http16k": [], "tcp": []}
        exe = f"{build}/tools/testbackend/fulcrum-testbackend"
        kinds = {"http64": ["--mode", "http", "--http-body-size", "64"],
                 "http16k": ["--mode", "http", "--http-body-size", "16384"],
                 "tcp": ["--mode", "cmd"]}
        try:
            for kind, args in kinds.items():
                for i in range(3):
                    port = free_port()
                    p = spawn([exe, "--id", f"{kind}-{i}", "--tcp", f"127.0.0.1:{port}"] + args,
                              os.path.join(workdir, f"backend-{kind}-{i}.log"))
                    self.procs.append(p)
                    wait_listening([port], p)
                    self.addrs[kind].append(port)
        except Exception:
            self.close()
            raise

    def close(self):
        for p in self.procs:
            stop(p)


class Target:
    name = ""
    proxy = True

    def __init__(self, backends, workdir):
        self.backends, self.dir, self.proc = backends, os.path.join(workdir, self.name), None
        os.makedirs(self.dir, exist_ok=True)
        self.ports = {}

    def start(self):
        self.ports = {f: free_port() for f in FRONTS}
        self.proc = spawn(self.argv(), os.path.join(self.dir, "out.log"), proxy=True)
        wait_listening(self.ports.values(), self.proc)

    def pids(self):
        return family(self.proc.pid) if self.proc else []

    def stop(self):
        stop(self.proc)
        self.proc = None

    def version(self):
        return ""


class Direct(Target):
    """Clients straight to the first backend of each kind: the limit of this machine."""
    name, proxy = "direct", False

    def start(self):
        self.ports = {f: self.backends.addrs[f][0] for f in FRONTS}

    def stop(self):
        pass


def _first_line(argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    return (r.stdout + r.stderr).strip().splitlines()[0]


class Fulcrum(Target):
    name = "fulcrum"

    def __init__(self, backends, workdir, build, name="fulcrum"):
        self.name = name  # "baseline": another build of Fulcrum measured in the same run
        super().__init__(backends, workdir)
        self.exe = f"{build}/src/exe/fulcrum"

    def argv(self):
        b = self.backends.addrs
        cfg = os.path.join(self.dir, "fulcrum.yaml")
        fwd = ("{x_forwarded_for: true, x_forwarded_proto: false, x_forwarded_host: false, "
               "x_real_ip: false}")
        lines = ["workers: 1", "log_level: warn",
                 f"admin: {{bind: 127.0.0.1:{free_port()}, state_file: {self.dir}/state.json, "
                 f"audit_log: {self.dir}/audit.log}}",
                 "timeouts: {keepalive: 120s, idle: 300s}", "listeners:"]
        for front in ("http64", "http16k"):
            lines += [f"  - {{name: {front}, bind: 127.0.0.1:{self.ports[front]}, protocol: http, "
                      f"pool: {front}, http: {{forwarded: {fwd}}}}}"]
        lines += [f"  - {{name: tcp, bind: 127.0.0.1:{self.ports['tcp']}, protocol: tcp, pool: tcp}}",
                  "pools:"]
        for front in FRONTS:
            servers = ", ".join(f"{{address: 127.0.0.1:{p}}}" for p in b[front])
            lines += [f"  - {{name: {front}, algorithm: round_robin, servers: [{servers}]}}"]
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [self.exe, "run", "-c", cfg]

    def version(self):
        return _first_line([self.exe, "version"])


class HAProxy(Target):
    name = "haproxy"

    def argv(self):
        b = self.backends.addrs
        cfg = os.path.join(self.dir, "haproxy.cfg")
        # HAProxy sizes its fd needs as 2 per connection: at 10,000 idle HTTP connections that is
        # above the 20,000 open-file limit, so the limit is given and its alert made non-fatal
        # (an idle HTTP connection holds one fd; 9,500 L4 connections hold 19,000).
        text = f"""global
  nbthread 1
  maxconn 10100
  ulimit-n 20000
  no strict-limits
defaults
  maxconn 10100
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 120s
"""
        for front in ("http64", "http16k"):
            text += f"""frontend f_{front}
  mode http
  option forwardfor
  bind 127.0.0.1:{self.ports[front]}
  default_backend b_{front}
backend b_{front}
  mode http
  balance roundrobin
""" + "".join(f"  server s{i} 127.0.0.1:{p}\n" for i, p in enumerate(b[front]))
        text += f"""listen tcp
  mode tcp
  bind 127.0.0.1:{self.ports['tcp']}
  balance roundrobin
""" + "".join(f"  server s{i} 127.0.0.1:{p}\n" for i, p in enumerate(b["tcp"]))
        with open(cfg, "w") as f:
            f.write(text)
        return [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", cfg]

    def version(self):
        return _first_line([shutil.which("haproxy") or "/usr/sbin/haproxy", "-v"])


class Nginx(Target):
    name = "nginx"
    MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"

    def argv(self):
        b, d = self.backends.addrs, self.dir
        os.makedirs(f"{d}/tmp", exist_ok=True)
        os.chmod(f"{d}/tmp", 0o777)
        http = ""
        for front in ("http64", "http16k"):
            servers = "".join(f"    server 127.0.0.1:{p};\n" for p in b[front])
            http += f"""  upstream u_{front} {{
{servers}    keepalive 1024;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }}
  server {{
    listen 127.0.0.1:{self.ports[front]};
    location / {{
      proxy_pass http://u_{front};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
"""
        servers = "".join(f"    server 127.0.0.1:{p};\n" for p in b["tcp"])
        text = f"""daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {d}/nginx.pid;
load_module {self.MODULE};
events {{ worker_connections 19900; }}
http {{
  access_log off;
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
{http}}}
stream {{
  upstream u_tcp {{
{servers}  }}
  server {{
    listen 127.0.0.1:{self.ports['tcp']};
    proxy_pass u_tcp;
    proxy_timeout 300s;
  }}
}}
"""
        cfg = os.path.join(d, "nginx.conf")
        with open(cfg, "w") as f:
            f.write(text)
        return [shutil.which("nginx") or "/usr/sbin/nginx", "-p", d, "-c", cfg, "-e", f"{d}/error.log"]

    def version(self):
        return _first_line([shutil.which("nginx") or "/usr/sbin/nginx", "-v"])
