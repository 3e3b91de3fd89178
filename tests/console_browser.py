#!/usr/bin/python3
"""The supervisor console end to end: the real ledgerd (development mode, a
fresh data directory, a random loopback port), a small HTTP proxy on
loopback in front of it that can flip one byte of a proof, and Debian's
chromium driven headless through chromium-driver.  Signs in, searches a
subject with events from several organisations and sees every row
verified, sorts and pages, draws the chart and a lineage graph, exports
the compliance bundle (one tar file, unpacked and checked by the real
`ledgerctl verify-export`), checks the log's status and consistency,
prints; then a flipped proof byte makes its row red (the reason in Dutch and
English), a flipped byte of the export stream keeps the bundle from being
offered, a quorum policy the log cannot meet and a wrong pinned key make the
status red.  Then a daemon with TLS and client certificates: chromium,
given a certificate in an NSS database of its own and the
AutoSelectCertificateForUrls policy (in a mount namespace of its own, so
that nothing outside the test sees it), signs in by certificate: a
supervisor gets verified answers, another principal the refusal in red.
Last a daemon with a retention policy: the sealed entries' opened values
are shown verified, and exported in opened.jsonl byte for byte as ledgerctl
export writes it (verify-export passes); a changed opened value is refused,
in the bundle by verify-export and in the server's answer by the console.
Screenshots go to $BUILD/console-shots/.

Prints `N passed, N failed`; exits non-zero on any failure.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")
LEDGERD = os.environ.get("LEDGERD_BIN", os.path.join(ROOT, BUILD, "ledgerd"))
LEDGERCTL = os.environ.get("LEDGERCTL_BIN", os.path.join(ROOT, BUILD, "ledgerctl"))
SHOTS = os.path.join(ROOT, BUILD, "console-shots")
WAIT = int(os.environ.get("CONSOLE_TEST_WAIT", "60"))  # seconds: a bound on every wait, never an expectation of speed

SUBJECT = "NL-BSN-123456782"
OTHER_SUBJECT = "NL-BSN-999999990"
PURPOSE = "Onderzoek CTIVD 2026/17: verstrekkingen over betrokkene"
DOC = "police/case-4711/report-1"

BUNDLE_FILES = ["README", "checkpoint", "context.jsonl", "context.proofs", "entries.csv",
                "entries.jsonl", "opened.jsonl", "proofs", "MANIFEST"]

passed = 0
failed = 0


def check(name, fn):
    """Runs one named step; a failure is printed with its traceback."""
    global passed, failed
    try:
        fn()
        passed += 1
        print("  ok   %s" % name, flush=True)
    except Exception:  # a failed step: count it and go on
        failed += 1
        print("  FAIL %s" % name, flush=True)
        traceback.print_exc()


# ---------------------------------------------------------------- daemon --

class Daemon:
    """ledgerd on a loopback port: in development mode, or with config (a
    dict, written as its config file) and then over TLS when it says so;
    ssl_context is the client's side of that TLS (a client certificate),
    token the bearer token requests carry (development mode: its own)."""

    def __init__(self, config=None, ssl_context=None, token=None):
        self.root = tempfile.mkdtemp(prefix="ledgerd-console.")
        self.data = os.path.join(self.root, "data")
        self.ssl_context = ssl_context
        os.mkdir(self.data, 0o700)
        self.log = open(os.path.join(self.root, "ledgerd.log"), "w+")
        args = [LEDGERD, "serve", "--data", self.data]
        if config is None:
            args += ["--listen", "127.0.0.1:0"]
        else:
            path = os.path.join(self.root, "ledgerd.json")
            with open(path, "w") as f:
                json.dump(config, f)
            args += ["--config", path]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT
        self.port = None
        while self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("ledgerd exited: " + self.log_text())
            if time.monotonic() > deadline:
                raise RuntimeError("ledgerd did not listen: " + self.log_text())
            m = re.search(r"listening on https?://127\.0\.0\.1:(\d+)\D", self.log_text())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        self.token = token
        if config is None:
            with open(os.path.join(self.data, "dev.token")) as f:
                self.token = f.read().strip()
        with open(os.path.join(self.data, "verifier.vkey")) as f:
            self.vkey = f.read().strip()

    def log_text(self):
        with open(self.log.name) as f:
            return f.read()

    def request(self, method, path, body=None, token=None):
        if self.ssl_context is not None:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=WAIT, context=self.ssl_context)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        token = token or self.token
        headers = {"Authorization": "Bearer " + token} if token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def post(self, event, token=None):
        status, _, data = self.request("POST", "/v1/events", event, token)
        if status != 201:
            raise RuntimeError("POST /v1/events: %d %s" % (status, data))
        return json.loads(data)["seq"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ----------------------------------------------------------------- proxy --

class Proxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream):
        self.upstream = upstream
        self.flip = False       # flip one byte of the second event's proof
        self.flip_export = False  # flip one byte of the export stream
        self.tamper_opened = False  # change the opened purpose of GET /v1/events/N/opened
        self.witness = None     # a Witness whose cosignature is added to checkpoints
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class Witness:
    """A C2SP tlog-cosignature/v1 witness of the test's own (formats.md)."""

    def __init__(self, name):
        self.name = name
        self.key = Ed25519PrivateKey.generate()
        pub = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        self.kid = hashlib.sha256(name.encode() + b"\n\x04" + pub).digest()[:4]
        self.vkey = "%s+%s+%s" % (name, self.kid.hex(), base64.b64encode(b"\x04" + pub).decode())
        self.tamper = False

    def cosign(self, note):
        body = note[:note.index("\n\n") + 1]
        t = int(time.time()) - 5
        sig = self.key.sign(("cosignature/v1\ntime %d\n" % t).encode() + body.encode())
        if self.tamper:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        blob = self.kid + t.to_bytes(8, "big") + sig
        return note + "\u2014 %s %s\n" % (self.name, base64.b64encode(blob).decode())


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        c = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=WAIT)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive", "host")}
        c.request("GET", self.path, headers=headers)
        r = c.getresponse()
        body = r.read()
        c.close()
        w = self.server.witness
        if w is not None and r.status == 200 and self.path == "/checkpoint":
            body = w.cosign(body.decode()).encode()
        elif w is not None and r.status == 200 and self.path.startswith("/v1/provenance/"):
            answer = json.loads(body)
            answer["checkpoint"] = w.cosign(answer["checkpoint"])
            body = json.dumps(answer, separators=(",", ":")).encode()
        if self.server.flip_export and self.path.startswith("/v1/export") and r.status == 200:
            # One byte of the first entry's purpose: its leaf hash changes.
            i = body.index(b'"purpose":"') + len(b'"purpose":"')
            body = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
        if self.server.tamper_opened and re.match(r"/v1/events/\d+/opened$", self.path) and r.status == 200:
            answer = json.loads(body)
            answer["opened"]["purpose"]["value"] += " (gewijzigd)"
            body = json.dumps(answer, separators=(",", ":")).encode()
        if self.server.flip and self.path.startswith("/v1/provenance/subjects/") and r.status == 200:
            answer = json.loads(body)
            proof = bytearray(base64.b64decode(answer["events"][1]["proof"][0]))
            proof[5] ^= 0x01
            answer["events"][1]["proof"][0] = base64.b64encode(bytes(proof)).decode()
            body = json.dumps(answer, separators=(",", ":")).encode()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --------------------------------------------------------------- browser --

def browser(download_dir, profile, binary="/usr/bin/chromium"):
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--user-data-dir=" + profile, "--window-size=1400,1000", "--lang=nl-NL",
              "--no-first-run", "--disable-extensions", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
    })
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.execute_cdp_cmd("Browser.setDownloadBehavior",
                      {"behavior": "allow", "downloadPath": download_dir})
    return d


def wait(d, cond, what):
    try:
        return WebDriverWait(d, WAIT, poll_frequency=0.1).until(lambda _: cond())
    except Exception:
        raise AssertionError("waited %d s for %s" % (WAIT, what))


def shot(d, name, element=None):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    if element is not None:
        d.execute_script("arguments[0].scrollIntoView()", element)
        element.screenshot(path)
        return
    d.execute_script("window.scrollTo(0, 0)")
    h = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(1400, max(900, min(h + 40, 6000)))
    d.save_screenshot(path)
    d.set_window_size(1400, 1000)


def text(d, id_):
    return d.find_element(By.ID, id_).text


def new_vkey(name, type_byte):
    k = Ed25519PrivateKey.generate()
    pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = hashlib.sha256(name.encode() + b"\n" + bytes([type_byte]) + pub).digest()[:4]
    return "%s+%s+%s" % (name, kid.hex(), base64.b64encode(bytes([type_byte]) + pub).decode())


def pin(d, vkey, policy):
    det = d.find_element(By.ID, "trust-edit")
    if det.get_attribute("open") is None:
        det.find_element(By.TAG_NAME, "summary").click()
    for id_, value in (("vkey", vkey), ("policy", policy)):
        e = d.find_element(By.ID, id_)
        e.clear()
        e.send_keys(value)
    d.find_element(By.CSS_SELECTOR, "#trust-form button[type=submit]").click()
    wait(d, lambda: text(d, "trust-error") in ("Vastgepind.", "Pinned."), "the trust to be pinned")


def search_subject(d, subject=SUBJECT, purpose=PURPOSE):
    d.find_element(By.CSS_SELECTOR, "input[name=kind][value=subject]").click()
    for id_, value in (("q-subject", subject), ("q-purpose", purpose)):
        e = d.find_element(By.ID, id_)
        e.clear()
        e.send_keys(value)
    before = d.execute_script("return document.getElementById('res-summary').textContent")
    d.find_element(By.ID, "search-go").click()
    wait(d, lambda: re.search(r"#\d+", text(d, "res-summary") or "") and
         text(d, "res-summary") != before, "the answer")


def rows(d):
    """The rows on screen (the table holds every row; print shows them all)."""
    return [r for r in d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr") if r.is_displayed()]


def shown(d, css):
    return [r for r in d.find_elements(By.CSS_SELECTOR, css) if r.is_displayed()]


# ------------------------------------------------- client certificates --

def cert_browser(work, pki, name, port):
    """Headless chromium that presents the client certificate NAME of pki to
    https://127.0.0.1:PORT without asking: the certificate and the test CA
    in an NSS database under a HOME of its own, and the policy
    AutoSelectCertificateForUrls.  Chromium reads policies only from
    /etc/chromium/policies/managed, so the browser runs in a user and mount
    namespace of its own (unshare -Urm) in which a tmpfs over /etc/chromium
    holds the policy: nothing outside the test sees it."""
    home = os.path.join(work, "home-" + name)
    nssdb = "sql:" + os.path.join(home, ".pki", "nssdb")
    os.makedirs(os.path.join(home, ".pki", "nssdb"))
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=WAIT)
    run("certutil", "-N", "-d", nssdb, "--empty-password")
    run("certutil", "-A", "-d", nssdb, "-n", "ledgerd-test-ca", "-t", "C,,", "-i", os.path.join(pki, "ca.pem"))
    p12 = os.path.join(work, name + ".p12")
    run("openssl", "pkcs12", "-export", "-in", os.path.join(pki, name + ".pem"),
        "-inkey", os.path.join(pki, name + ".key"), "-out", p12, "-passout", "pass:test", "-name", name)
    run("pk12util", "-i", p12, "-d", nssdb, "-W", "test")
    policy = os.path.join(work, "policy-%s.json" % name)
    with open(policy, "w") as f:
        json.dump({"AutoSelectCertificateForUrls": [json.dumps(
            {"pattern": "https://127.0.0.1:%d" % port, "filter": {}})]}, f)
    wrapper = os.path.join(work, "chromium-" + name)
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nHOME='%s' exec unshare -Urm sh -c 'mount -t tmpfs tmpfs /etc/chromium && "
                "mkdir -p /etc/chromium/policies/managed && "
                "cp \"$0\" /etc/chromium/policies/managed/ledgerd-console-test.json && "
                "exec /usr/bin/chromium \"$@\"' '%s' \"$@\"\n" % (home, policy))
    os.chmod(wrapper, 0o755)
    downloads = os.path.join(work, "downloads-" + name)
    os.mkdir(downloads)
    return browser(downloads, os.path.join(work, "profile-" + name), wrapper)


def cert_sign_in_missing():
    """Why the client-certificate browser cannot run here, or None."""
    for tool in ("certutil", "pk12util", "unshare", "openssl"):
        if shutil.which(tool) is None:
            return "%s is not installed" % tool
    if not os.path.isdir("/etc/chromium"):
        return "/etc/chromium does not exist"
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", "mount -t tmpfs tmpfs /etc/chromium"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return "no user and mount namespace for the browser: " + r.stderr.strip()
    return None


def client_certificates(work):
    """A daemon with TLS and client certificates; board (supervisor) and
    police (writer and reader) are known by their certificates' subjects."""
    why = cert_sign_in_missing()
    if why is not None:
        print("  skip client-certificate sign-in in the browser: %s" % why, flush=True)
        return
    pki = os.path.join(work, "pki")
    os.mkdir(pki)
    subprocess.run(["sh", os.path.join(ROOT, "tests", "access_pki.sh"), pki], check=True, timeout=WAIT)
    client = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
    client.load_cert_chain(os.path.join(pki, "police.pem"), os.path.join(pki, "police.key"))
    dmn = Daemon({
        "listen": "127.0.0.1:0", "origin": "ledger.example.org/console-test",
        "tls": {"cert": os.path.join(pki, "server.pem"), "key": os.path.join(pki, "server.key"),
                "client_ca": os.path.join(pki, "ca.pem")},
        "principals": [
            {"id": "board", "org": "board", "roles": ["supervisor"], "cert_subject": "CN=board-app,O=board"},
            {"id": "police-app", "org": "police", "roles": ["writer", "reader"],
             "cert_subject": "CN=police-app,O=police"},
        ]}, client)
    base = "https://127.0.0.1:%d" % dmn.port
    drivers = []
    try:
        def load():
            for i in range(3):
                dmn.post({"type": "share", "actor": {"org": "police", "user": "r.devries"},
                          "subjects": [SUBJECT], "recipients": ["om"], "object": {"ref": "police/tls-%d" % i},
                          "purpose": "weging", "occurred_at": "2026-03-0%dT09:00:00Z" % (i + 1)})
        check("TLS: the daemon takes events from police's certificate", load)

        def sign_in_by_certificate(d):
            d.get(base + "/console/")
            wait(d, lambda: text(d, "fp-key") == "niet vastgepind", "the console over https")
            pin(d, dmn.vkey, "quorum none\n")
            d.find_element(By.ID, "use-cert").click()
            wait(d, lambda: "clientcertificaat" in text(d, "signin-state"), "the sign-in by certificate")
            assert d.execute_script("return sessionStorage.getItem('ledgerd.console.token')") is None

        def supervisor():
            d = cert_browser(work, pki, "board", dmn.port)
            drivers.append(d)
            sign_in_by_certificate(d)
            wait(d, lambda: text(d, "st-verdict") == "Geverifieerd", "the status over https")
            search_subject(d)
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-ok")) == 3, "3 verified rows")
            assert d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-bad") == []
            assert text(d, "res-summary").startswith("3 vermeldingen, 3 geverifieerd, 0 niet"), text(d, "res-summary")
            shot(d, "14-certificate-supervisor")
        check("TLS: chromium presents the supervisor's certificate; the answers verify", supervisor)

        def refused():
            d = cert_browser(work, pki, "police", dmn.port)
            drivers.append(d)
            sign_in_by_certificate(d)
            d.find_element(By.CSS_SELECTOR, "input[name=kind][value=subject]").click()
            for id_, value in (("q-subject", SUBJECT), ("q-purpose", PURPOSE)):
                d.find_element(By.ID, id_).send_keys(value)
            d.find_element(By.ID, "search-go").click()
            wait(d, lambda: "403" in text(d, "search-error"), "the refusal")
            err = d.find_element(By.ID, "search-error")
            assert "bad" in err.get_attribute("class") and "de server antwoordt 403" in err.text, err.text
            assert d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-ok") == []
            assert not d.find_element(By.ID, "results").is_displayed()
            shot(d, "15-certificate-refused")
        check("TLS: a certificate of a principal without the supervisor role is refused, in red", refused)
    finally:
        for d in drivers:
            try:
                d.quit()
            except WebDriverException:
                pass
        dmn.stop()
        if not failed:
            shutil.rmtree(dmn.root, ignore_errors=True)


# ------------------------------------------------------------- retention --

def downloaded_bundle(d, downloads, work, name):
    """Clicks export, waits for the verified download and unpacks it under
    work/name; returns the bundle's directory."""
    d.find_element(By.ID, "export").click()
    wait(d, lambda: "ledgerd-export-" in text(d, "export-state") or
         "NIET" in text(d, "export-state"), "the export")
    state = text(d, "export-state")
    assert "ok" in d.find_element(By.ID, "export-state").get_attribute("class"), state
    wait(d, lambda: [f for f in os.listdir(downloads) if f.endswith(".tar")] and
         not [f for f in os.listdir(downloads) if f.endswith(".crdownload")], "the downloaded file")
    files = [f for f in os.listdir(downloads) if f.endswith(".tar")]
    assert len(files) == 1, files
    unpacked = os.path.join(work, name)
    with tarfile.open(os.path.join(downloads, files[0])) as t:
        t.extractall(unpacked)
    return os.path.join(unpacked, files[0][:-len(".tar")])


def read(path):
    with open(path, "rb") as f:
        return f.read()


def rehash(bundle, name):
    """MANIFEST made to agree with name again, so that only name's own check
    can find what was changed in it."""
    path = os.path.join(bundle, "MANIFEST")
    digest = hashlib.sha256(read(os.path.join(bundle, name))).hexdigest()
    lines = [digest + "  " + name if l.endswith("  " + name) else l
             for l in read(path).decode().splitlines()]
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))


def retention_export(work):
    """A daemon with a retention policy that seals purpose, legal_basis and
    details: the console shows the opened values, and its bundle holds them
    in opened.jsonl, byte for byte as ledgerctl export writes them, which
    verify-export accepts; a changed opened value is refused by both."""
    writer, board = "console-retention-writer", "console-retention-board"
    sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
    dmn = Daemon({
        "listen": "127.0.0.1:0", "origin": "ledger.example.org/console-retention",
        "orgs": ["police", "om", "board"], "checkpoint_interval_ms": 200,
        "principals": [
            {"id": "police-app", "org": "police", "roles": ["writer"], "token_sha256": sha(writer)},
            {"id": "board", "org": "board", "roles": ["supervisor"], "token_sha256": sha(board)}],
        "retention": {"period": "quarter", "restrict_after": "5y", "destroy_after": "10y",
                      "sealed_fields": ["purpose", "legal_basis", "details"]}}, token=board)
    proxy = Proxy(dmn.port)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % proxy.server_address[1]
    downloads = os.path.join(work, "downloads-retention")
    os.mkdir(downloads)
    vkey = os.path.join(work, "retention.vkey")
    with open(vkey, "w") as f:
        f.write(dmn.vkey + "\n")
    d = None
    try:
        def load():
            dmn.post({"type": "share", "actor": {"org": "police", "user": "r.devries"},
                      "subjects": [SUBJECT], "recipients": ["om"], "object": {"ref": "police/sealed-1"},
                      "purpose": "weging \u2014 Z\u00fcrich", "legal_basis": "Wpg art. 19",
                      "details": {"fase": 2, "gewicht": 0.1, "noot": "=geen formule"},
                      "occurred_at": "2026-03-02T09:00:00Z"}, writer)
            dmn.post({"type": "share", "actor": {"org": "police", "user": "r.devries"},
                      "subjects": [SUBJECT], "recipients": ["om"], "object": {"ref": "police/sealed-2"},
                      "purpose": "tweede weging", "occurred_at": "2026-03-03T09:00:00Z"}, writer)
            status, _, data = dmn.request("GET", "/v1/events?type=share")
            assert status == 200, (status, data)
            entries = [json.loads(e["entry"]) for e in json.loads(data)["events"]]
            assert len(entries) == 2 and all(e["v"] == 3 and "purpose" not in e for e in entries), entries
            assert sorted(entries[0]["sealed"]) == ["details", "legal_basis", "purpose"], entries[0]
        check("retention: the daemon seals purpose, legal basis and details", load)

        d = browser(downloads, os.path.join(work, "profile-retention"))
        d.get(base + "/console/")

        def opened_shown():
            wait(d, lambda: text(d, "fp-key") == "niet vastgepind", "the console to start")
            pin(d, dmn.vkey, "quorum none\n")
            d.find_element(By.ID, "token").send_keys(board)
            d.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
            wait(d, lambda: "token" in text(d, "signin-state"), "the sign-in")
            search_subject(d)
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-ok")) == 2, "2 verified rows")
            purposes = [r.find_elements(By.TAG_NAME, "td")[7].text for r in rows(d)]
            assert purposes == ["weging \u2014 Z\u00fcrich", "tweede weging"], purposes
        check("retention: the console shows the sealed entries' opened values, verified", opened_shown)

        ctx = {}

        def export():
            bundle = downloaded_bundle(d, downloads, work, "unpacked-retention")
            assert sorted(os.listdir(bundle)) == sorted(BUNDLE_FILES), os.listdir(bundle)
            r = subprocess.run([LEDGERCTL, "verify-export", bundle, "--key", vkey],
                               capture_output=True, text=True, timeout=WAIT)
            assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
            assert "2 entries" in r.stdout, r.stdout
            opened = [json.loads(l) for l in read(os.path.join(bundle, "opened.jsonl")).splitlines()]
            assert [o["seq"] for o in opened] == [json.loads(l)["seq"] for l in
                                                 read(os.path.join(bundle, "entries.jsonl")).splitlines()]
            assert opened[0]["opened"]["purpose"]["value"] == "weging \u2014 Z\u00fcrich", opened[0]
            # The same entries exported by ledgerctl: the same bytes.
            out = os.path.join(work, "ledgerctl-retention")
            r = subprocess.run([LEDGERCTL, "export", "--url", "http://127.0.0.1:%d" % dmn.port,
                                "--token", board, "--key", vkey, "--subject", SUBJECT,
                                "--purpose", PURPOSE + " (ledgerctl)", "--out", out],
                               capture_output=True, text=True, timeout=WAIT)
            assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
            for name in ("README", "entries.jsonl", "entries.csv", "opened.jsonl"):
                assert read(os.path.join(bundle, name)) == read(os.path.join(out, name)), name
            ctx["bundle"] = bundle
            shot(d, "16-retention-export", d.find_element(By.ID, "export-box"))
        check("retention: the bundle holds opened.jsonl as ledgerctl export writes it; verify-export passes",
              export)

        def bundle_tampered():
            bundle = ctx["bundle"]
            path = os.path.join(bundle, "opened.jsonl")
            lines = read(path).decode().splitlines()
            lines[0] = lines[0].replace("weging", "wegIng", 1)
            with open(path, "w") as f:
                f.write("".join(l + "\n" for l in lines))
            rehash(bundle, "opened.jsonl")
            r = subprocess.run([LEDGERCTL, "verify-export", bundle, "--key", vkey],
                               capture_output=True, text=True, timeout=WAIT)
            assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
            assert "opened.jsonl line 1" in r.stderr + r.stdout, (r.stdout, r.stderr)
        check("retention: an opened value changed in the bundle fails verify-export", bundle_tampered)

        def answer_tampered():
            before = set(os.listdir(downloads))
            proxy.tamper_opened = True
            try:
                d.find_element(By.ID, "export").click()
                wait(d, lambda: "NIET aangeboden" in text(d, "export-state"), "the refusal")
            finally:
                proxy.tamper_opened = False
            state = text(d, "export-state")
            assert "bad" in d.find_element(By.ID, "export-state").get_attribute("class")
            assert "opened.jsonl niet geschreven: seq" in state and \
                "is niet de waarde waaraan de vermelding zich bindt" in state, state
            time.sleep(1)
            assert set(os.listdir(downloads)) == before, os.listdir(downloads)
            shot(d, "17-retention-opened-tampered", d.find_element(By.ID, "export-box"))
        check("retention: a changed opened value in the server's answer: no bundle offered, the reason in red",
              answer_tampered)
    finally:
        if d is not None:
            try:
                d.quit()
            except WebDriverException:
                pass
        proxy.shutdown()
        dmn.stop()
        if not failed:
            shutil.rmtree(dmn.root, ignore_errors=True)


# ------------------------------------------------------------------ test --

def main():
    os.makedirs(SHOTS, exist_ok=True)
    for f in os.listdir(SHOTS):
        os.remove(os.path.join(SHOTS, f))
    work = tempfile.mkdtemp(prefix="ledgerd-console-browser.")
    downloads = os.path.join(work, "downloads")
    os.mkdir(downloads)
    dmn = Daemon()
    proxy = Proxy(dmn.port)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % proxy.server_address[1]
    d = None
    ctx = {}
    try:
        # The log: a shared report, queries of it, advice resting on it, from
        # several organisations, over several days, and enough to page.
        def load():
            ev = lambda **kw: dict({"subjects": [SUBJECT]}, **kw)
            ctx["share"] = dmn.post(ev(
                type="share", actor={"org": "police", "user": "r.devries"},
                recipients=["aivd", "om", "nctv"], object={"ref": DOC},
                purpose="weging casus 4711", legal_basis="Wpg art. 19",
                occurred_at="2026-03-02T09:15:00Z"))
            ctx["q1"] = dmn.post(ev(
                type="query", actor={"org": "aivd", "user": "analist-17"},
                object={"ref": DOC}, purpose="duiding dreiging",
                legal_basis="Wiv art. 39", occurred_at="2026-03-03T14:02:00Z"))
            ctx["q2"] = dmn.post(ev(
                type="query", actor={"org": "om", "user": "ovj-mvb"},
                object={"ref": DOC}, purpose="strafrechtelijke weging",
                legal_basis="Wjsg art. 8", occurred_at="2026-03-04T10:30:00Z"))
            ctx["advice"] = dmn.post(ev(
                type="advice", actor={"org": "nctv", "user": "casusregisseur"},
                recipients=["police", "ind", "om"], object={"ref": "advies-2026-031"},
                purpose="advies persoonsgerichte aanpak", legal_basis="convenant CT-infobox",
                occurred_at="2026-03-06T16:45:00Z", refs=[ctx["share"]]))
            dmn.post({"type": "share", "actor": {"org": "fiod", "user": "x"},
                      "subjects": [OTHER_SUBJECT], "recipients": ["fiu"],
                      "object": {"ref": "fiod/other"}, "purpose": "andere zaak",
                      "occurred_at": "2026-03-05T08:00:00Z"})
            orgs = ["ind", "kmar", "fiod", "fiu", "szw", "mivd"]
            for i in range(22):
                dmn.post(ev(type="query", actor={"org": orgs[i % len(orgs)], "user": "medewerker-%d" % i},
                            object={"ref": "%s/dossier-%d" % (orgs[i % len(orgs)], i)},
                            purpose="controle signalering",
                            occurred_at="2026-03-%02dT%02d:00:00Z" % (7 + i % 20, 8 + i % 9)))
            ctx["n"] = 4 + 22
        check("the daemon takes the events", load)

        def served():
            c = http.client.HTTPConnection("127.0.0.1", dmn.port, timeout=WAIT)
            for path, ctype in (("/console/", "text/html"), ("/console/index.html", "text/html"),
                                ("/console/js/verify.js", "text/javascript"),
                                ("/console/console.css", "text/css")):
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                assert r.status == 200, (path, r.status)
                assert r.getheader("Content-Type").startswith(ctype), r.getheader("Content-Type")
                csp = r.getheader("Content-Security-Policy")
                assert "default-src 'self'" in csp and "unsafe-inline" not in csp, csp
                etag = r.getheader("ETag")
                c.request("GET", path, headers={"If-None-Match": etag})
                r = c.getresponse()
                r.read()
                assert r.status == 304, (path, r.status)
            c.request("GET", "/console/nothing.js")
            r = c.getresponse()
            r.read()
            assert r.status == 404
            c.request("POST", "/console/")
            r = c.getresponse()
            r.read()
            assert r.status == 405
            c.close()
        check("the daemon serves the console's files with a strict CSP, ETag, 404, 405", served)

        d = browser(downloads, os.path.join(work, "profile"))
        d.get(base + "/console/")

        def first_view():
            wait(d, lambda: text(d, "fp-key") == "niet vastgepind", "the console to start")
            assert d.find_element(By.TAG_NAME, "h2").text.startswith("Vertrouwen")
            # Keyboard: the first Tab reaches the skip link, then the tools.
            d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
            a = d.switch_to.active_element
            assert a.get_attribute("class") == "skip" and a.text == "Naar de resultaten", a.text
            a.send_keys(Keys.TAB)
            assert d.switch_to.active_element.get_attribute("id") == "lang"
            shot(d, "01-start")
        check("the console opens in Dutch, asking for pinned trust", first_view)

        def pin_and_sign_in():
            pin(d, dmn.vkey, "# no witnesses yet\nquorum none\n")
            assert "localhost/ledgerd-dev" in text(d, "fp-key")
            wait(d, lambda: text(d, "st-verdict") == "Geverifieerd", "the status to verify")
            d.find_element(By.ID, "token").send_keys(dmn.token)
            d.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
            wait(d, lambda: "token" in text(d, "signin-state"), "the sign-in")
            # The token lives in sessionStorage only.
            assert d.execute_script("return sessionStorage.getItem('ledgerd.console.token')") == dmn.token
            assert dmn.token not in json.dumps(d.execute_script("return {...localStorage}"))
        check("pin the log key and a quorum-none policy, sign in with the token", pin_and_sign_in)

        def timeline():
            search_subject(d)
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-ok")) == 20,
                 "20 verified rows")
            assert d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-bad") == []
            s = text(d, "res-summary")
            assert s.startswith("%d vermeldingen, %d geverifieerd, 0 niet" % (ctx["n"], ctx["n"])), s
            assert "Pagina 1 van 2" == text(d, "pg-info")
            orgs = {r.find_elements(By.TAG_NAME, "td")[4].text for r in rows(d)}
            assert {"police", "aivd", "om", "nctv"} <= orgs, orgs
            shot(d, "02-timeline")
        check("a subject's timeline: every row verified in the browser, several orgs", timeline)

        def audited():
            status, _, data = dmn.request("GET", "/v1/events?type=audit")
            assert status == 200
            audits = [json.loads(e["entry"]) for e in json.loads(data)["events"]]
            assert audits and audits[-1]["purpose"] == PURPOSE, audits[-1:]
            assert audits[-1]["details"]["query"] == "subjects"
            assert SUBJECT not in json.dumps(audits)
        check("the query is in the log as an audit entry with the typed purpose", audited)

        def sort_and_page():
            d.find_element(By.CSS_SELECTOR, "#timeline th button[data-key=org]").click()
            first = [r.find_elements(By.TAG_NAME, "td")[4].text for r in rows(d)]
            assert first == sorted(first) and first[0] == "aivd", first
            th = d.find_element(By.CSS_SELECTOR, "#timeline th[aria-sort=ascending] button")
            assert th.get_attribute("data-key") == "org"
            # Keyboard: the focused sort button again, by Enter: descending.
            d.switch_to.active_element.send_keys(Keys.ENTER)
            wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "#timeline th[aria-sort=descending]"), "descending")
            d.find_element(By.ID, "pg-next").click()
            wait(d, lambda: text(d, "pg-info") == "Pagina 2 van 2", "page 2")
            assert len(rows(d)) == ctx["n"] - 20
            d.find_element(By.CSS_SELECTOR, "#timeline th button[data-key=seq]").click()
        check("sort by organisation (mouse and keyboard) and page", sort_and_page)

        def chart():
            marks = d.find_elements(By.CSS_SELECTOR, "#chart svg.chart circle, #chart svg.chart rect, #chart svg.chart path")
            assert len(marks) >= ctx["n"], len(marks)
            lanes = d.find_elements(By.CSS_SELECTOR, "#chart svg.chart > text")
            assert {"police", "aivd", "om", "nctv"} <= {l.text for l in lanes}
            shot(d, "03-chart", d.find_element(By.ID, "chart"))
        check("the chart draws every event in its organisation's lane", chart)

        def english():
            d.find_element(By.ID, "lang").click()
            wait(d, lambda: text(d, "results-h") == "Answer", "English")
            assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
            assert text(d, "res-summary").startswith("%d entries, %d verified" % (ctx["n"], ctx["n"]))
            # What was said before the switch is said again in English.
            assert text(d, "trust-error") == "Pinned.", text(d, "trust-error")
            assert re.match(r"(consistency proof from size|the same as|first checkpoint)", text(d, "st-cons")), \
                text(d, "st-cons")
            shot(d, "04-english")
            d.find_element(By.ID, "lang").click()
            wait(d, lambda: text(d, "results-h") == "Antwoord", "Dutch again")
        check("the language toggle: English and back to Dutch", english)

        def verified_export(name):
            """Exports the current search, checks the bundle with ledgerctl
            verify-export and returns its directory; the tar file is then
            removed from the downloads."""
            for f in os.listdir(downloads):
                os.remove(os.path.join(downloads, f))
            bundle = downloaded_bundle(d, downloads, work, name)
            vkey = os.path.join(work, "verifier.vkey")
            with open(vkey, "w") as f:
                f.write(dmn.vkey + "\n")
            r = subprocess.run([LEDGERCTL, "verify-export", bundle, "--key", vkey],
                               capture_output=True, text=True, timeout=WAIT)
            assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
            for f in os.listdir(downloads):
                os.remove(os.path.join(downloads, f))
            return bundle

        def actor():
            d.find_element(By.CSS_SELECTOR, "input[name=kind][value=actor]").click()
            for id_, value in (("q-org", "aivd"), ("q-user", "analist-17"), ("q-purpose", PURPOSE + " (gebruiker)")):
                e = d.find_element(By.ID, id_)
                e.clear()
                e.send_keys(value)
            d.find_element(By.ID, "search-go").click()
            wait(d, lambda: text(d, "res-summary").startswith("1 vermelding, 1 geverifieerd"), "the user's answer")
            assert [r.find_elements(By.TAG_NAME, "td")[5].text for r in rows(d)] == ["analist-17"]
            assert "gebruiker analist-17 van aivd" in text(d, "export-what")
            # The user's bundle: only that user's entries, as the export
            # entry records (org and user), and verify-export agrees.
            bundle = verified_export("unpacked-actor")
            entries = [json.loads(l) for l in read(os.path.join(bundle, "entries.jsonl")).splitlines()]
            assert [(e["actor"]["org"], e["actor"]["user"]) for e in entries] == [("aivd", "analist-17")], entries
            export_entry = json.loads(read(os.path.join(bundle, "context.jsonl")).splitlines()[-1])
            assert export_entry["details"]["filters"]["user"] == "analist-17", export_entry
            search_subject(d)
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-ok")) == 20, "the subject again")
        check("search by user: that user's entries, verified", actor)

        def export():
            d.find_element(By.ID, "export").click()
            wait(d, lambda: "ledgerd-export-" in text(d, "export-state") or
                 "NIET" in text(d, "export-state"), "the export")
            state = text(d, "export-state")
            assert "ok" in d.find_element(By.ID, "export-state").get_attribute("class"), state
            wait(d, lambda: [f for f in os.listdir(downloads) if f.endswith(".tar")] and
                 not [f for f in os.listdir(downloads) if f.endswith(".crdownload")], "the downloaded file")
            files = os.listdir(downloads)
            assert len(files) == 1 and re.match(r"ledgerd-export-\d+\.tar$", files[0]), files
            assert "%d vermeldingen" % ctx["n"] in state and \
                "%d ervan staan ook in het antwoord" % ctx["n"] in state, state
            unpacked = os.path.join(work, "unpacked")
            with tarfile.open(os.path.join(downloads, files[0])) as t:
                names = t.getnames()
                t.extractall(unpacked)
            bundle = os.path.join(unpacked, files[0][:-len(".tar")])
            assert sorted(os.listdir(bundle)) == sorted(BUNDLE_FILES), names
            # No retention policy: nothing sealed, nothing opened.
            assert os.path.getsize(os.path.join(bundle, "opened.jsonl")) == 0
            vkey = os.path.join(work, "verifier.vkey")
            with open(vkey, "w") as f:
                f.write(dmn.vkey + "\n")
            r = subprocess.run([LEDGERCTL, "verify-export", bundle, "--key", vkey],
                               capture_output=True, text=True, timeout=WAIT)
            assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
            assert "%d entries" % ctx["n"] in r.stdout and "NOT PROVEN" in r.stdout, r.stdout
            ctx["bundle"] = bundle
            ctx["vkey"] = vkey
            # What it proves and what not, next to the button.
            what = text(d, "export-what")
            assert "NIET BEWEZEN" in what and "ledgerctl audit --subject" in what, what
            shot(d, "05-export", d.find_element(By.ID, "export-box"))
        check("export: the compliance bundle of the search as one tar file; ledgerctl verify-export passes", export)

        def export_tampered():
            before = set(os.listdir(downloads))
            proxy.flip_export = True
            try:
                # By the keyboard this time: the button takes focus and Enter.
                d.execute_script("document.getElementById('export').focus()")
                d.switch_to.active_element.send_keys(Keys.ENTER)
                wait(d, lambda: "NIET aangeboden" in text(d, "export-state"), "the refusal")
            finally:
                proxy.flip_export = False
            state = text(d, "export-state")
            assert "bad" in d.find_element(By.ID, "export-state").get_attribute("class")
            assert "entries.jsonl regel 1" in state and "leidt niet naar de wortel" in state, state
            time.sleep(1)
            assert set(os.listdir(downloads)) == before, os.listdir(downloads)
            shot(d, "05b-export-tampered", d.find_element(By.ID, "export-box"))
        check("a byte of the export stream flipped by the proxy: no bundle offered, the reason in red", export_tampered)

        def status_view():
            d.find_element(By.ID, "refresh").click()
            wait(d, lambda: "consistentiebewijs" in text(d, "st-cons") or "gelijk aan" in text(d, "st-cons"),
                 "a consistency check")
            assert text(d, "st-verdict") == "Geverifieerd"
            assert "quorum none" in text(d, "st-cosig")
            size = int(text(d, "st-size").split()[0])
            assert size > ctx["n"]
            shot(d, "06-status", d.find_element(By.ID, "status"))
        check("log status: tree size, signature, policy, consistency with the last checkpoint seen", status_view)

        def lineage():
            row = [r for r in rows(d) if r.get_attribute("data-seq") == str(ctx["share"])][0]
            row.find_element(By.CSS_SELECTOR, "td button.small").click()
            wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")) == 4, "the lineage graph")
            nodes = d.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")
            assert all("ok" in n.get_attribute("class").split() for n in nodes)
            edges = d.find_elements(By.CSS_SELECTOR, "#lineage svg path[marker-end]")
            assert len(edges) == 1
            assert d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-bad") == []
            # The nodes take the keyboard's focus, one after the other by Tab.
            d.execute_script("arguments[0].focus()", nodes[0])
            assert d.execute_script("return document.activeElement") == nodes[0]
            ActionChains(d).send_keys(Keys.TAB).perform()
            assert d.execute_script("return document.activeElement") == nodes[1]
            shot(d, "07-lineage", d.find_element(By.ID, "lineage-box"))
        check("the lineage of the shared report: share, two queries, the advice resting on it", lineage)

        def lineage_export():
            assert "herkomst van het item" in text(d, "export-what")
            bundle = verified_export("unpacked-lineage")
            seqs = [json.loads(l)["seq"] for l in read(os.path.join(bundle, "entries.jsonl")).splitlines()]
            nodes = d.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")
            assert len(seqs) == 4 and len(nodes) == 4, (seqs, len(nodes))
            shown_seqs = [int(r.get_attribute("data-seq")) for r in rows(d)]
            assert sorted(seqs) == sorted(shown_seqs), (seqs, shown_seqs)
            export_entry = json.loads(read(os.path.join(bundle, "context.jsonl")).splitlines()[-1])
            assert "object" in export_entry["details"]["filters"], export_entry
            shot(d, "07b-lineage-export", d.find_element(By.ID, "export-box"))
        check("export of the lineage: the bundle holds exactly the graph's entries; verify-export passes",
              lineage_export)

        def printable():
            search_subject(d)
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-ok")) == 20, "rows")
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            assert not d.find_element(By.ID, "search").is_displayed()
            assert len(shown(d, "#timeline tbody tr.row-ok")) == ctx["n"]
            assert shown(d, "#timeline th button[data-key=org]")
            assert d.find_element(By.ID, "print-foot").is_displayed()
            shot(d, "08-print")
            d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
            pdf = d.execute_cdp_cmd("Page.printToPDF", {})
            with open(os.path.join(SHOTS, "08-print.pdf"), "wb") as f:
                f.write(base64.b64decode(pdf["data"]))
        check("the print view hides the forms and keeps the answer", printable)

        def no_csp_violations():
            bad = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and
                   "favicon" not in e["message"]]
            assert bad == [], bad
        check("no errors or CSP violations in the browser's console", no_csp_violations)

        def flipped():
            proxy.flip = True
            try:
                search_subject(d, purpose=PURPOSE + " (controle)")
                wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-bad")) == 1,
                     "one red row")
            finally:
                proxy.flip = False
            bad = d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-bad")[0]
            assert "leidt niet naar de wortel van het checkpoint" in bad.text, bad.text
            assert len(shown(d, "#timeline tbody tr.row-ok")) == 19
            assert ", 1 niet" in text(d, "res-summary")
            shot(d, "09-flipped-proof")
            # The same reason in English.
            d.find_element(By.ID, "lang").click()
            wait(d, lambda: "does not lead to the checkpoint's root" in
                 d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr.row-bad")[0].text, "the reason in English")
            shot(d, "09b-flipped-proof-english")
            d.find_element(By.ID, "lang").click()
            wait(d, lambda: text(d, "results-h") == "Antwoord", "Dutch again")
        check("one flipped byte of a proof (through the proxy) makes that row red", flipped)

        def quorum():
            witness = new_vkey("witness.example/toezicht", 0x04)
            pin(d, dmn.vkey, "witness toezicht %s\nquorum toezicht\n" % witness)
            wait(d, lambda: "NIET" in text(d, "st-verdict"), "a red status")
            assert "quorum toezicht NIET gehaald" in text(d, "st-cosig")
            assert "bad" in d.find_element(By.ID, "st-verdict").get_attribute("class")
            search_subject(d, purpose=PURPOSE + " (quorum)")
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-bad")) == 20,
                 "every row red")
            assert "maar het checkpoint niet" in rows(d)[0].text, rows(d)[0].text
            shot(d, "10-quorum-unmet")
        check("a witness quorum the log does not meet: status and rows red", quorum)

        def cosigned():
            w = Witness("witness.example/toezicht")
            proxy.witness = w
            try:
                pin(d, dmn.vkey, "log %s\nwitness toezicht %s\nquorum toezicht\n" % (dmn.vkey, w.vkey))
                d.find_element(By.ID, "refresh").click()
                wait(d, lambda: text(d, "st-verdict") == "Geverifieerd", "a verified status")
                assert "quorum toezicht gehaald" in text(d, "st-cosig"), text(d, "st-cosig")
                assert "laatste medeondertekening" in text(d, "st-age")
                search_subject(d, purpose=PURPOSE + " (getuige)")
                wait(d, lambda: len(shown(d, "#timeline tbody tr.row-ok")) == 20, "20 verified rows")
                shot(d, "11-cosigned", d.find_element(By.ID, "status"))
                # One flipped bit of the witness's signature: the quorum fails.
                w.tamper = True
                d.find_element(By.ID, "refresh").click()
                wait(d, lambda: "NIET" in text(d, "st-verdict"), "a red status")
                assert "de medeondertekening klopt niet" in text(d, "st-cosig"), text(d, "st-cosig")
                shot(d, "12-cosignature-bad", d.find_element(By.ID, "status"))
            finally:
                proxy.witness = None
        check("a witness's cosignature meets the quorum; a bad one does not", cosigned)

        def wrong_key():
            pin(d, new_vkey("localhost/ledgerd-dev", 0x01), "quorum none\n")
            d.find_element(By.ID, "refresh").click()
            wait(d, lambda: "NIET" in text(d, "st-verdict"), "a red status")
            assert "niet ondertekend met de vastgepinde sleutel" in text(d, "st-verdict"), text(d, "st-verdict")
            assert d.find_element(By.ID, "banner").is_displayed()
            assert "WAARSCHUWING" in text(d, "banner")
            search_subject(d, purpose=PURPOSE + " (sleutel)")
            wait(d, lambda: len(shown(d, "#timeline tbody tr.row-bad")) == 20,
                 "every row red")
            shot(d, "13-wrong-key")
        check("a wrong pinned key: the status red, a loud warning, no row verified", wrong_key)

        def refuses_without_purpose():
            pin(d, dmn.vkey, "quorum none\n")
            d.find_element(By.ID, "q-purpose").clear()
            d.find_element(By.ID, "search-go").click()
            wait(d, lambda: "doel" in text(d, "search-error").lower(), "the purpose to be asked for")
        check("a search without a purpose is not sent", refuses_without_purpose)
        d.quit()
        d = None
        client_certificates(work)
        retention_export(work)
    except Exception:
        global failed
        failed += 1
        traceback.print_exc()
    finally:
        if d is not None:
            try:
                d.quit()
            except WebDriverException:
                pass
        proxy.shutdown()
        dmn.stop()
        if failed:
            print("  daemon log and browser profile kept in %s and %s" % (dmn.root, work))
        else:
            shutil.rmtree(dmn.root, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
    print("  screenshots in %s" % SHOTS)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
