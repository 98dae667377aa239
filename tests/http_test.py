#!/usr/bin/env python3
"""http_test.py -- the HTTP front door against the real daemon, with real HTTP clients.

Usage: http_test.py BUILD/filterd BUILD/filterctl

Starts filterd (supervisor, broker, workers and its http process) in a
temporary run directory with http-listen on a free loopback port, then talks
to it with Python's http.client (keep-alive), curl, raw sockets for the
hostile clients, and checks a live /metrics with `promtool check metrics`.
Every endpoint and every error of docs/http.md has a check; the hostile ones
also check that another HTTP client and the ZeroMQ path (filterctl check)
are served while they hold their connections. Prints one line per failure
and a summary; exits 1 on any failure.
"""
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FILTERD, FILTERCTL = sys.argv[1], sys.argv[2]
TOKENS = ["tok-alpha-0123456789", "tok-beta-9876543210"]
TIMEOUT_MS = 3000                 # http-timeout-ms of the test daemon
IDLE_MS = 4000                    # http-idle-ms
MAX_BODY = 12000
MAX_CONNS = 12
SECRET = "zqxsecretmarker"       # user text that must never reach the log
passed = failed = 0


def check(desc, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {desc}", file=sys.stderr)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, tokens=True, host="127.0.0.1"):
        self.host = host
        self.dir = tempfile.mkdtemp(prefix="fdht.")
        self.port = free_port()
        lists = os.path.join(self.dir, "lists")
        os.mkdir(lists)
        with open(os.path.join(lists, "abuse.txt"), "w") as f:
            f.write("# test\nfuckyou\n傻逼\n")
        with open(os.path.join(lists, "porn.txt"), "w") as f:
            f.write("# test\npornxyz\n")
        with open(os.path.join(lists, "privacy.txt"), "w") as f:
            f.write("# test\nwxidtest\n")
        self.tokens = os.path.join(self.dir, "tokens")
        with open(self.tokens, "w") as f:
            f.write("# test tokens\n" + "\n".join(TOKENS) + "\n")
        self.conf = os.path.join(self.dir, "filterd.conf")
        self.log = os.path.join(self.dir, "filterd.log")
        with open(self.conf, "w") as f:
            f.write(f"lists {lists}\nlisten ipc://{self.dir}/req.sock\n"
                    f"admin ipc://{self.dir}/admin.sock\nrun-dir {self.dir}\nuser\n"
                    f"workers 2\nbudget-ms 5000\nmax-budget-ms 10000\nlog-requests yes\n"
                    f"policy nickname privacy block\nmax-items 8\n"
                    f"http-listen {host}:{self.port}\n"
                    f"http-max-body {MAX_BODY}\nhttp-connections {MAX_CONNS}\n"
                    f"http-timeout-ms {TIMEOUT_MS}\nhttp-idle-ms {IDLE_MS}\n"
                    + (f"http-tokens {self.tokens}\n" if tokens else ""))
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([FILTERD, "--config", self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, secs=60):
        end = time.time() + secs
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("filterd exited: " + self.read_log())
            if "event=ready" in self.read_log() and "event=http_listening" in self.read_log():
                return
            time.sleep(0.1)
        raise RuntimeError("filterd not ready: " + self.read_log())

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def conn(self, timeout=10):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or self.conn()
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if not conn:
            c.close()
        return r.status, r, data

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body, headers=None, conn=None):
        st, r, data = self.request("POST", path, body, headers, conn)
        try:
            return st, r, json.loads(data)
        except ValueError:
            return st, r, None

    def http_pid(self):
        pids = re.findall(r"proc=http pid=(\d+)", self.read_log())
        return int(pids[-1]) if pids else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()
        rc = self.proc.returncode
        return rc

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def wxa(d, body, token=TOKENS[0], headers=None):
    path = "/wxa/msg_sec_check" + (f"?access_token={token}" if token is not None else "")
    return d.post(path, body, headers)


def bearer(tok=TOKENS[1]):
    return {"Authorization": f"Bearer {tok}"}


def zmq_ok(d):
    """The ZeroMQ path answers (filterctl check through the broker)."""
    r = subprocess.run([FILTERCTL, "check", "--config", d.conf, "--timeout", "5000", "hello"],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0 and '"decision":"allow"' in r.stdout


def still_open(s):
    """s is open: the server neither closed it nor answered on it."""
    readable, _, _ = select.select([s], [], [], 0)
    return not readable           # EOF, a reset or a response would make it readable


def served(d, holding=()):
    """Another HTTP client gets a check answered, and the connections held
    are still open after it: it did not wait for them to be cut (no clock)."""
    st, _, o = d.post("/v1/check", {"text": "hello"}, bearer())
    return st == 200 and o.get("decision") == "allow" and all(still_open(s) for s in holding)


def closed_by_peer(s, secs):
    """s is closed by the server within secs (reads EOF or a reset)."""
    s.settimeout(secs)
    end = time.time() + secs
    try:
        while time.time() < end:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def raw(d):
    return socket.create_connection(("127.0.0.1", d.port), timeout=10)


def read_responses(s, n, secs=10):
    """n HTTP responses from s (Content-Length bodies): [(status, body)]."""
    s.settimeout(secs)
    buf, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return out
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        while len(buf) < length:
            buf += s.recv(65536)
        out.append((int(head.split()[1]), buf[:length]))
        buf = buf[length:]
    return out


# ---- the tests --------------------------------------------------------------

def test_health(d):
    st, r, body = d.get("/healthz")
    check("healthz: 200 {status: ok}", st == 200 and json.loads(body) == {"status": "ok"})
    st, r, body = d.get("/readyz")
    o = json.loads(body)
    check("readyz: 200, ready, the serving version, workers",
          st == 200 and o["ready"] is True and o["version"].startswith("wl-")
          and o["workers_serving"] == 2)
    st, r, body = d.request("HEAD", "/healthz")
    check("HEAD /healthz: 200, no body", st == 200 and body == b"")


def test_check(d):
    st, r, o = d.post("/v1/check", {"id": "a1", "text": "you fuckyou", "scene": "comment"},
                      bearer())
    check("v1/check: 200 application/json", st == 200 and
          r.getheader("Content-Type") == "application/json")
    check("v1/check: the protocol's fields", o.get("id") == "a1" and o["decision"] == "flag"
          and o["suggest"] == "review" and o["label"] == 20003 and o["labels"] == ["abuse"]
          and o["matches"][0]["term"] == "fuckyou" and o["matches"][0]["start"] == 4
          and o["matches"][0]["list"] == "abuse.txt" and o["version"].startswith("wl-"))
    st, _, o = d.post(f"/v1/check?access_token={TOKENS[0]}", {"text": "pornxyz"})
    check("v1/check: ?access_token= works too; porn blocks",
          st == 200 and o["decision"] == "block" and o["suggest"] == "risky")
    st, _, o = d.post("/v1/check", {"text": "wxidtest", "scene": "nickname", "explain": True},
                      bearer())
    check("v1/check: scene policy applies (privacy in nickname: block)",
          st == 200 and o["decision"] == "block")
    st, _, o = d.post("/v1/check", {"text": "hello", "budget_ms": 2000, "v": 1}, bearer())
    check("v1/check: clean text allowed", st == 200 and o["decision"] == "allow")
    # bulk
    items = [{"id": "x", "text": "hello"}, {"id": 7, "text": "fuckyou"},
             {"text": "wxidtest", "scene": "nickname"}, {"text": "a" * 100}]
    st, _, o = d.post("/v1/check", {"id": "bulk1", "scene": "comment", "items": items}, bearer())
    res = o.get("results", []) if o else []
    check("v1/check bulk: results in order with their ids",
          st == 200 and o["id"] == "bulk1" and len(res) == 4 and res[0]["id"] == "x"
          and res[0]["decision"] == "allow" and res[1]["id"] == 7
          and res[1]["decision"] == "flag" and res[2]["decision"] == "block"
          and res[3]["decision"] == "allow")
    st, _, o = d.post("/v1/check", {"items": []}, bearer())
    check("v1/check bulk: no items, no results", st == 200 and o == {"results": []})
    st, _, o = d.post("/v1/check", {"items": [{"text": "a"}] * 9}, bearer())
    check("v1/check bulk: more than max-items: 413 too_large",
          st == 413 and o["error"]["code"] == "too_large")


def error_is(desc, got, status, code):
    st, r, o = got
    check(f"{desc}: {status} {code} (got {st} {o})", st == status and isinstance(o, dict)
          and o.get("error", {}).get("code") == code and o["error"].get("message")
          and r.getheader("Content-Type") == "application/json")


def test_check_errors(d):
    j = {"Content-Type": "application/json"}
    error_is("no token", d.post("/v1/check", {"text": "a"}), 401, "unauthorized")
    error_is("wrong token", d.post("/v1/check", {"text": "a"}, bearer("tok-alpha-0123456788")),
             401, "unauthorized")
    error_is("a prefix of a token", d.post("/v1/check", {"text": "a"}, bearer("tok-alpha")),
             401, "unauthorized")
    error_is("invalid JSON", d.post("/v1/check", b'{"text": "a"', {**j, **bearer()}),
             400, "bad_request")
    error_is("two JSON values", d.post("/v1/check", b'{"text": "a"} {}', {**j, **bearer()}),
             400, "bad_request")
    error_is("invalid UTF-8", d.post("/v1/check", b'{"text": "a\xff\xfe"}', {**j, **bearer()}),
             400, "bad_request")
    error_is("overlong UTF-8", d.post("/v1/check", b'{"text": "\xc0\xaf"}', {**j, **bearer()}),
             400, "bad_request")
    error_is("NUL as \\u0000", d.post("/v1/check", b'{"text": "a\\u0000b"}', {**j, **bearer()}),
             400, "bad_request")
    error_is("empty body", d.post("/v1/check", b"", {**j, **bearer()}), 400, "bad_request")
    st, r, o = d.post("/v1/check", b'{"text": "fine", "text": "bad"}', {**j, **bearer()})
    error_is("a key twice", (st, r, o), 400, "bad_request")
    check("a key twice: the message names it", "text" in o.get("error", {}).get("message", ""))
    error_is("not an object", d.post("/v1/check", [1, 2], bearer()), 400, "bad_request")
    error_is("text not a string", d.post("/v1/check", {"text": 5}, bearer()), 400, "bad_request")
    error_is("unknown scene", d.post("/v1/check", {"text": "a", "scene": "moon"}, bearer()),
             400, "bad_request")
    error_is("text and items", d.post("/v1/check", {"text": "a", "items": []}, bearer()),
             400, "bad_request")
    error_is("wrong content type", d.post("/v1/check", b'{"text": "a"}',
             {"Content-Type": "text/plain", **bearer()}), 415, "unsupported_media_type")
    error_is("no content type", d.post("/v1/check", b'{"text": "a"}', bearer()),
             415, "unsupported_media_type")
    error_is("a charset other than UTF-8", d.post("/v1/check", b'{"text": "a"}',
             {"Content-Type": "application/json; charset=gbk", **bearer()}),
             415, "unsupported_media_type")
    big = json.dumps({"text": "a" * MAX_BODY}).encode()
    error_is("body over http-max-body (Content-Length)", d.post("/v1/check", big,
             {**j, **bearer()}), 413, "too_large")
    # chunked, so that the size is known only while reading
    c = d.conn()
    c.putrequest("POST", "/v1/check")
    c.putheader("Content-Type", "application/json")
    c.putheader("Authorization", f"Bearer {TOKENS[0]}")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    for _ in range(16):
        part = b'"' + b"a" * 1000 + b'",'
        c.send(b"%x\r\n%s\r\n" % (len(part), part))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    o = json.loads(r.read())
    check("chunked body over http-max-body: 413", r.status == 413 and
          o["error"]["code"] == "too_large")
    c.close()
    st, r, body = d.request("GET", "/v1/check")
    check("GET /v1/check: 405 with Allow: POST", st == 405 and r.getheader("Allow") == "POST"
          and json.loads(body)["error"]["code"] == "method_not_allowed")
    st, r, body = d.request("POST", "/metrics", b"")
    check("POST /metrics: 405 with Allow: GET, HEAD", st == 405 and
          r.getheader("Allow") == "GET, HEAD")
    st, r, body = d.get("/nowhere")
    check("unknown path: 404 JSON", st == 404 and json.loads(body)["error"]["code"] == "not_found")


def test_wxa(d):
    st, r, o = wxa(d, {"content": "hello there", "version": 2, "scene": 2, "openid": "o1"})
    check("wxa: pass", st == 200 and o["errcode"] == 0 and o["errmsg"] == "ok"
          and o["result"] == {"suggest": "pass", "label": 100} and o["detail"] == []
          and isinstance(o["trace_id"], str) and o["trace_id"])
    st, r, o = wxa(d, {"content": "你个傻逼", "version": 2, "scene": 2, "openid": "o1"})
    det = o.get("detail", [{}])
    check("wxa: keyword hit in WeChat's shape", st == 200 and o["errcode"] == 0
          and o["result"] == {"suggest": "review", "label": 20003} and len(det) == 1
          and det[0]["strategy"] == "keyword" and det[0]["errcode"] == 0
          and det[0]["suggest"] == "review" and det[0]["label"] == 20003
          and det[0]["keyword"] == "傻逼" and det[0]["prob"] == 100 and det[0]["level"] == 20
          and det[0]["field"] == "content" and det[0]["start"] == 6)
    # every field, each under its own scene: privacy blocks as a nickname only
    st, r, o = wxa(d, {"content": "hello", "version": 2, "scene": 2, "openid": "o1",
                       "nickname": "wxidtest", "title": "pornxyz"})
    fields = sorted((x["field"], x["suggest"]) for x in o.get("detail", []))
    check("wxa: nickname and title checked, each under its scene",
          st == 200 and o["result"]["suggest"] == "risky"
          and fields == [("nickname", "risky"), ("title", "risky")])
    st, r, o = wxa(d, {"content": "wxidtest", "version": 2, "scene": 2, "openid": "o1"})
    check("wxa: the same text as a comment: review", o["result"]["suggest"] == "review")
    st, r, o = wxa(d, {"content": "hi", "version": 2, "scene": 2, "openid": "o1",
                       "signature": "fuckyou"})
    check("wxa: signature ignored outside scene 1", o["errcode"] == 0
          and o["result"]["suggest"] == "pass")
    st, r, o = wxa(d, {"content": "hi", "version": 2, "scene": 1, "openid": "o1",
                       "signature": "fuckyou"})
    check("wxa: signature checked with scene 1", o["errcode"] == 0 and
          [x["field"] for x in o["detail"]] == ["signature"])
    st, r, o = wxa(d, {"content": "hi", "version": 2, "scene": 2, "openid": "o1"},
                   token=TOKENS[1], headers={"Content-Type": "application/json;charset=UTF-8"})
    check("wxa: second token, charset", st == 200 and o["errcode"] == 0)

    def code(desc, got, errcode, status=200):
        st, r, o = got
        check(f"wxa {desc}: HTTP {status} errcode {errcode} (got {st} {o})",
              st == status and isinstance(o, dict) and o.get("errcode") == errcode
              and isinstance(o.get("errmsg"), str) and "result" not in o)
    ok = {"content": "hi", "version": 2, "scene": 2, "openid": "o1"}
    code("no token", wxa(d, ok, token=None), 41001)
    code("bad token", wxa(d, ok, token="nope"), 40001)
    code("token in the body", wxa(d, {**ok, "access_token": TOKENS[0]}, token=None), 47001)
    code("no openid", wxa(d, {k: v for k, v in ok.items() if k != "openid"}), 40003)
    code("scene 5", wxa(d, {**ok, "scene": 5}), 40129)
    code("scene as a string", wxa(d, {**ok, "scene": "2"}), 40129)
    code("version 1", wxa(d, {**ok, "version": 1}), 47001)
    code("no content", wxa(d, {k: v for k, v in ok.items() if k != "content"}), 47001)
    code("content not a string", wxa(d, {**ok, "content": 3}), 47001)
    code("content over 2,500 characters", wxa(d, {**ok, "content": "好" * 1300 + "a" * 1201}),
         45002)
    st, r, o = wxa(d, {**ok, "content": "好" * 1300 + "a" * 1200})
    check("wxa: content of exactly 2,500 characters passes", o.get("errcode") == 0)
    code("empty body", d.post(f"/wxa/msg_sec_check?access_token={TOKENS[0]}", b"",
                              {"Content-Type": "application/json"}), 44002)
    code("invalid JSON", d.post(f"/wxa/msg_sec_check?access_token={TOKENS[0]}", b"{",
                                {"Content-Type": "application/json"}), 47001)
    code("invalid UTF-8", d.post(f"/wxa/msg_sec_check?access_token={TOKENS[0]}",
                                 b'{"content": "\xff", "version": 2, "scene": 2, "openid": "o"}',
                                 {"Content-Type": "application/json"}), 47001)
    code("body over http-max-body", wxa(d, {**ok, "content": "a" * MAX_BODY}), 45002, 413)
    code("form content type", d.post(f"/wxa/msg_sec_check?access_token={TOKENS[0]}",
                                     b"content=hi", {"Content-Type":
                                                     "application/x-www-form-urlencoded"}),
         47001, 415)
    st, r, body = d.request("GET", f"/wxa/msg_sec_check?access_token={TOKENS[0]}")
    code("GET", (st, r, json.loads(body)), 43302, 405)
    # curl, as the README shows it
    r = subprocess.run(["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json",
                        f"http://127.0.0.1:{d.port}/wxa/msg_sec_check?access_token={TOKENS[0]}",
                        "-d", '{"content":"你个傻逼","version":2,"scene":2,"openid":"o1"}'],
                       capture_output=True, text=True, timeout=30)
    o = json.loads(r.stdout or "{}")
    check("curl: the README's call", r.returncode == 0 and o.get("errcode") == 0 and
          o["result"]["label"] == 20003)


def test_keepalive_pipelining(d):
    c = d.conn()
    ok = True
    for i in range(20):
        st, _, o = d.post("/v1/check", {"id": i, "text": "fuckyou" if i % 2 else "hi"},
                          bearer(), conn=c)
        ok &= st == 200 and o["id"] == i and o["decision"] == ("flag" if i % 2 else "allow")
    check("keep-alive: 20 requests on one connection", ok)
    c.close()
    s = raw(d)
    one = json.dumps({"text": "fuckyou"}).encode()
    req = (b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Authorization: Bearer " + TOKENS[0].encode() + b"\r\nContent-Length: %d\r\n\r\n%s"
           % (len(one), one))
    s.sendall(req * 3 + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    out = read_responses(s, 4)
    check("pipelining: 4 requests in one write, 4 answers in order",
          [st for st, _ in out] == [200, 200, 200, 200]
          and all(json.loads(b).get("decision") == "flag" for _, b in out[:3])
          and json.loads(out[3][1]) == {"status": "ok"})
    s.close()


def metric(d, name):
    text = d.get("/metrics")[2].decode()
    return int(re.search(r"^%s (\d+)" % name, text, re.M).group(1))


def test_batching(d):
    """Requests that come in the same poll round go to the broker together
    (httpsend.c): the http process is stopped while 10 clients send, so
    libmicrohttpd sees them all in one round. Each must get its own answer
    (its text, its scene, its items, its own item error), the batch must
    respect max-items (8 here: the 15 texts need 2 batches of the default
    budget) and a request with another budget goes on its own."""
    reqs = [("/v1/check", {"id": 0, "text": "hello"}),
            ("/v1/check", {"id": 1, "text": "fuckyou"}),
            ("/v1/check", {"id": 2, "text": "pornxyz"}),
            ("/v1/check", {"id": 3, "text": "wxidtest", "scene": "nickname"}),
            ("/v1/check", {"id": 4, "text": "wxidtest", "scene": "comment"}),
            ("/v1/check", {"id": 5, "text": "hi", "budget_ms": 3000}),
            ("/v1/check", {"id": 6, "items": [{"text": "pornxyz"}, {"text": "x"},
                                              {"id": "n", "text": "wxidtest", "scene": "nickname"}]}),
            ("/v1/check", {"id": 7, "text": "fuckyou", "scene": "nope"}),
            ("/wxa/msg_sec_check?access_token=" + TOKENS[0],
             {"content": "hello", "version": 2, "scene": 1, "openid": "o",
              "nickname": "wxidtest", "signature": "fuckyou"}),
            ("/v1/check", {"id": 9, "text": "x " * 20 + "傻逼"})]
    raws = []
    for path, body in reqs:
        b = json.dumps(body).encode()
        raws.append(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s"
                    % (path.encode(), TOKENS[0].encode(), len(b), b))
    socks = [raw(d) for _ in reqs]
    d.post("/v1/check", {"text": "warm"}, bearer())
    b0, n0 = metric(d, "filterd_http_batched_total"), metric(d, "filterd_requests_total")
    pid = d.http_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        for s, req in zip(socks, raws):
            s.sendall(req)
        time.sleep(0.3)
    finally:
        os.kill(pid, signal.SIGCONT)
    out = [read_responses(s, 1) for s in socks]
    for s in socks:
        s.close()
    ok = all(len(o) == 1 for o in out)
    check("batching: every request answered", ok)
    if not ok:
        return
    got = [(st, json.loads(b)) for [(st, b)] in out]
    want = ["allow", "flag", "block", "block", "flag", "allow"]   # privacy: block in nickname
    check("batching: each single check has its own decision and id",
          all(got[i][0] == 200 and got[i][1].get("id") == i and got[i][1]["decision"] == want[i]
              for i in range(6)))
    st, o = got[6]
    check("batching: a bulk check among them keeps its results, in order, with ids",
          st == 200 and o["id"] == 6 and [x["decision"] for x in o["results"]]
          == ["block", "allow", "block"] and o["results"][2]["id"] == "n")
    check("batching: an item's error is its request's alone (unknown scene: 400)",
          got[7][0] == 400 and got[7][1]["error"]["code"] == "bad_request"
          and got[7][1]["id"] == 7)
    st, o = got[8]
    check("batching: msgSecCheck's fields, each under its scene",
          st == 200 and o["errcode"] == 0 and o["result"]["suggest"] == "risky"
          and sorted(x["field"] for x in o["detail"]) == ["nickname", "signature"])
    check("batching: a match keeps its offsets in its own text",
          got[9][0] == 200 and got[9][1]["matches"][0]["start"] == 40)
    b1, n1 = metric(d, "filterd_http_batched_total"), metric(d, "filterd_requests_total")
    check(f"batching: requests of one round went together ({b1 - b0} batched, "
          f"{n1 - n0} broker requests for 10)", b1 - b0 >= 8 and n1 - n0 <= 4)


def test_metrics(d):
    st, r, body = d.get("/metrics")
    text = body.decode()
    check("metrics: 200, text format 0.0.4", st == 200 and
          r.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=60)
    check(f"promtool check metrics passes: {p.stdout.decode()} {p.stderr.decode()}",
          p.returncode == 0)
    for fam in ["filterd_requests_total", "filterd_decisions_total{decision=\"flag\"}",
                "filterd_labels_total{label=\"abuse\"}", "filterd_scenes_total{scene=\"nickname\"}",
                "filterd_degraded_total{reason=\"deadline\"}",
                "filterd_errors_total{code=\"bad_request\"}", "filterd_reloads_total",
                "filterd_reload_failures_total", "filterd_worker_restarts_total",
                "filterd_lists_info{version=\"wl-", "filterd_request_duration_seconds_bucket{le=",
                "filterd_request_duration_seconds_sum", "filterd_http_requests_total{path="]:
        check(f"metrics: has {fam}", fam in text)
    m = {}
    for line in text.splitlines():
        if line.startswith("filterd_request_duration_seconds_bucket"):
            m[line.split('"')[1]] = int(line.split()[-1])
    counts = list(m.values())
    total = int(re.search(r"^filterd_request_duration_seconds_count (\d+)", text, re.M).group(1))
    check("metrics: histogram buckets cumulative, +Inf = count > 0",
          counts == sorted(counts) and m.get("+Inf") == total and total > 0)
    n0 = int(re.search(r"^filterd_requests_total (\d+)", text, re.M).group(1))
    d.post("/v1/check", {"text": "hi"}, bearer())
    text2 = d.get("/metrics")[2].decode()
    n1 = int(re.search(r"^filterd_requests_total (\d+)", text2, re.M).group(1))
    check("metrics: a check counts", n1 == n0 + 1)


def test_hostile(d):
    # slow headers, an unfinished body, a client that never reads: all cut, others served
    slow = raw(d)
    slow.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n")
    body = raw(d)
    body.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + TOKENS[0].encode() +
                 b"\r\nContent-Length: 100\r\n\r\n{\"text\": ")
    time.sleep(0.2)
    check("slow clients: another client is served meanwhile", served(d, (slow, body)))
    check("slow clients: the ZeroMQ path is served meanwhile", zmq_ok(d) and
          still_open(slow) and still_open(body))
    check("slow headers: closed after http-timeout-ms", closed_by_peer(slow, TIMEOUT_MS / 1000 + 3))
    check("unfinished body: closed after http-timeout-ms",
          closed_by_peer(body, TIMEOUT_MS / 1000 + 3))
    slow.close(), body.close()
    # the connection limit: idle connections up to it, one more is refused
    held = [raw(d) for _ in range(MAX_CONNS)]
    time.sleep(0.3)
    extra = raw(d)
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    extra.settimeout(1)
    try:
        got = extra.recv(65536)
    except socket.timeout:
        got = None
    check("connection limit: one over http-connections waits (not served)", got is None)
    check("connection limit: the ZeroMQ path is served meanwhile", zmq_ok(d) and
          all(still_open(s) for s in held))
    for s in held:
        s.close()
    out = read_responses(extra, 1, 5)
    check("connection limit: the waiting one is served once they close",
          out and out[0][0] == 200)
    extra.close()
    held = [raw(d) for _ in range(MAX_CONNS)]
    time.sleep(IDLE_MS / 1000 + 1.5)  # the idle ones are cut
    check("connection limit: idle connections are cut after http-idle-ms",
          all(closed_by_peer(s, 1) for s in held))
    for s in held:
        s.close()
    check("connection limit: served again", served(d))
    # a request line that is not HTTP, a huge header
    s = raw(d)
    s.sendall(b"\x16\x03\x01garbage\r\n\r\n")
    check("garbage instead of HTTP: the connection is closed", closed_by_peer(s, 5))
    s.close()
    s = raw(d)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    try:
        out = read_responses(s, 1, 5)
        check("huge header: refused (431 or closed)", not out or out[0][0] >= 400)
    except OSError:
        check("huge header: refused (closed)", True)
    s.close()
    check("after the hostile clients: served", served(d))


def test_log_has_no_text(d):
    d.post("/v1/check", {"text": SECRET + " fuckyou"}, bearer())
    wxa(d, {"content": SECRET, "version": 2, "scene": 2, "openid": "o1", "nickname": SECRET})
    d.post("/v1/check", b'{"text": "' + SECRET.encode() + b'"', bearer())   # invalid JSON
    time.sleep(0.3)
    log = d.read_log()
    check("log: http_request lines are written (log-requests)", "event=http_request" in log)
    check("log: no user text", SECRET not in log and "fuckyou" not in log)
    check("log: no token", all(t not in log for t in TOKENS))


def test_supervision(d):
    pid = d.http_pid()
    os.kill(pid, signal.SIGKILL)
    end, back = time.time() + 15, False
    while time.time() < end and not back:
        time.sleep(0.1)
        try:
            back = d.http_pid() != pid and d.get("/healthz")[0] == 200
        except OSError:
            pass
    check("the http process killed: restarted by the supervisor", back)
    check("the ZeroMQ path was not affected", zmq_ok(d))
    # a reload reads the token file again
    with open(d.tokens, "a") as f:
        f.write("tok-gamma-new\n")
    st, _, _ = d.post("/v1/check", {"text": "hi"}, bearer("tok-gamma-new"))
    check("a new token before the reload: 401", st == 401)
    os.kill(d.proc.pid, signal.SIGHUP)
    end, st = time.time() + 20, 0
    while time.time() < end and st != 200:
        time.sleep(0.2)
        st = d.post("/v1/check", {"text": "hi"}, bearer("tok-gamma-new"))[0]
    check("reload: the new token is accepted", st == 200)
    with open(d.tokens, "a") as f:
        f.write("bad token with spaces\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    end, kept = time.time() + 20, None
    while time.time() < end and not kept:
        time.sleep(0.2)
        kept = re.search(r"event=http_tokens_kept message=\"[^\"]*tokens:5: ", d.read_log())
    check("reload: a bad token file is refused with file:line, the tokens stay",
          kept is not None and d.post("/v1/check", {"text": "hi"}, bearer("tok-gamma-new"))[0] == 200)
    ok = d.read_log().count("event=ready") >= 1
    check("metrics: the reload is counted", ok and "filterd_reloads_total" in
          d.get("/metrics")[2].decode())


def test_broker_stalled(d):
    """The broker stopped (SIGSTOP): /readyz and /metrics say so with 503
    after their wait, /healthz answers meanwhile; all well after SIGCONT."""
    broker = int(re.findall(r"proc=broker pid=(\d+)", d.read_log())[-1])
    os.kill(broker, signal.SIGSTOP)
    try:
        st, _, body = d.get("/readyz")
        o = json.loads(body)
        check("broker stalled: readyz 503 with a reason", st == 503 and o["ready"] is False
              and "broker" in o["reason"])
        check("broker stalled: metrics 503", d.get("/metrics")[0] == 503)
        check("broker stalled: healthz still 200", d.get("/healthz")[0] == 200)
    finally:
        os.kill(broker, signal.SIGCONT)
    end, st = time.time() + 20, 0
    while time.time() < end and st != 200:
        st = d.get("/readyz")[0]
    check("broker resumed: readyz 200 again", st == 200)


def test_broker_restart(d):
    """The broker killed, with a check at it: the supervisor starts another,
    and the front door's own link to the broker (zdealer.c) connects to it
    by itself. The check in flight is answered (sent again to the new broker,
    or the fallback), and checks are soon answered by the new broker."""
    old = int(re.findall(r"proc=broker pid=(\d+)", d.read_log())[-1])
    got = []
    os.kill(old, signal.SIGSTOP)
    t = threading.Thread(target=lambda: got.append(
        d.request("POST", "/v1/check", {"text": "pornxyz"}, bearer(), d.conn(timeout=30))))
    t.start()
    time.sleep(0.3)
    os.kill(old, signal.SIGKILL)
    t.join(40)
    st, _, body = got[0] if got else (0, None, b"{}")
    check("broker killed: the check at it is answered", st == 200 and
          json.loads(body)["decision"] in ("block", "flag"))   # the fallback: flag
    end, ok = time.time() + 30, False
    while time.time() < end and not ok:
        st, _, o = d.post("/v1/check", {"text": "pornxyz"}, bearer())
        ok = st == 200 and o["decision"] == "block" and "degraded" not in o
        time.sleep(0.1)
    new = int(re.findall(r"proc=broker pid=(\d+)", d.read_log())[-1])
    check("broker killed: the new broker answers HTTP checks", ok and new != old)


def test_loopback_only():
    d = Daemon(tokens=False)
    try:
        st, _, o = d.post("/v1/check", {"text": "fuckyou"})
        check("no token file: loopback answered without a token",
              st == 200 and o["decision"] == "flag")
        st, _, o = wxa(d, {"content": "hi", "version": 2, "scene": 2, "openid": "o"}, token="x")
        check("no token file: msgSecCheck on loopback with any token", o.get("errcode") == 0)
        # a peer that is not loopback: this host's own address, if it has one
        addrs = [a for a in subprocess.run(["hostname", "-I"], capture_output=True,
                                           text=True).stdout.split() if ":" not in a]
        if addrs:
            d2 = None
            try:
                d.stop()
                d2 = Daemon(tokens=False, host=addrs[0])
                c = d2.conn()
                st, _, o = d2.post("/v1/check", {"text": "hi"}, conn=c)
                check("no token file: a peer off loopback gets 403", st == 403 and
                      o["error"]["code"] == "forbidden")
                st, _, o = d2.post("/wxa/msg_sec_check?access_token=x", {"content": "hi",
                                   "version": 2, "scene": 2, "openid": "o"}, conn=c)
                check("no token file: msgSecCheck off loopback: errcode 40001",
                      st == 200 and o.get("errcode") == 40001)
                c.close()
            finally:
                if d2:
                    d2.stop(), d2.cleanup()
    finally:
        d.stop()
        d.cleanup()


def main():
    if not shutil.which("promtool") or not shutil.which("curl"):
        print("http_test: promtool and curl are needed (scripts/deps.sh)", file=sys.stderr)
        return 1
    d = Daemon()
    try:
        for t in (test_health, test_check, test_check_errors, test_wxa, test_keepalive_pipelining,
                  test_batching, test_metrics, test_hostile, test_log_has_no_text, test_supervision,
                  test_broker_stalled, test_broker_restart):
            try:
                t(d)
            except Exception as e:    # a crash in one test is a failure, the others run
                check(f"{t.__name__}: {type(e).__name__}: {e}", False)
        check("SIGTERM: filterd exits 0", d.stop() == 0)
    finally:
        if failed:
            sys.stderr.write(d.read_log()[-4000:])
        d.stop()
        d.cleanup()
    try:
        test_loopback_only()
    except Exception as e:
        check(f"test_loopback_only: {type(e).__name__}: {e}", False)
    print(f"http_test: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
