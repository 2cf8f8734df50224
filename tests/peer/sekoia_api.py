#!/usr/bin/env python3
"""A loopback double of Sekoia's asset-connector API, validating every body with Sekoia's models.

  .venv/bin/python tests/peer/sekoia_api.py --api-key KEY --connector UUID [--script JSON]

Serves on 127.0.0.1 (a free port) with the standard library's http.server and answers:

  POST /api/v2/asset-management/asset-connector/{UUID}   a push: {"version": 1, "items": [...]}
  GET  /api/v1/tasks/{task_id}                           a push's ingestion task

Every request needs `Authorization: Bearer KEY` (else 401 {"code", "message"}, the message
naming what was presented, so a client that prints it verbatim would print its key). A push
needs `Content-Type: application/json` (else 415) and the connector UUID (else 404). Its body is
validated as Sekoia's SDK builds it: `AssetList.model_validate` (sekoia-automation-models, pinned
in requirements.txt), every item a `UserOCSFModel`; an invalid body is answered 400. A valid
body's items are also dumped with `model_dump(mode="json", exclude_none=True)`, and the leaf paths
of the body that the dump does not keep are reported (`extra_paths`: empty when the client sent
only what Sekoia keeps).

--script (JSON) makes it misbehave, by the 1-based number of the push (counted over the whole
life of the server, whatever the client):

  {"push": {"2": {"status": 429, "retry_after": "1"},        a reply instead of accepting
            "3": {"status": 500},
            "4": {"drop": true},                             close the connection, no reply
            "5": {"hang": true}},                            answer nothing until stdin closes
                                                             (or 120 s), then 503
   "tasks": true,                                            a 200 names a task (default true)
   "task_states": ["PENDING", "RUNNING", "FINISHED"],        the n-th poll of a task answers the
                                                             n-th state (the last one after)
   "task_error": "text"}                                     a final state's `error`

A scripted reply is {"status": N, "retry_after": "…"?, "code": "…"?, "message": "…"?}.

It prints one JSON line {"url": "http://127.0.0.1:PORT"} when it listens, then one JSON line per
request handled, flushed at once:

  {"n": 7, "kind": "push" | "task" | "other", "method", "path", "status": 200 | …,
   "push": 3, (push) "items": 40, "uids": [...] (accepted pushes only), "errors": [...],
   "extra_paths": [...], "dumped": [...] (accepted pushes only), "hang": true?, "drop": true?,
   "task_id": "…"?, "task_status": "…"?}

It stops when its stdin closes (the test that started it ended, however it ended).
Standard library + sekoia-automation-models only.
"""

import argparse
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PUSH_PREFIX = "/api/v2/asset-management/asset-connector/"
TASK_PREFIX = "/api/v1/tasks/"
MAX_BODY = 64 * 1024 * 1024
HANG_LIMIT = 120.0


def leaf_paths(value, prefix=""):
    """Distinct leaf paths of a JSON value (as sekoia_models.py computes them)."""
    paths = set()
    if isinstance(value, dict):
        if not value and prefix:
            paths.add(prefix)
        for key, item in value.items():
            paths |= leaf_paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value:
            paths.add(f"{prefix}[]")
        for item in value:
            paths |= leaf_paths(item, f"{prefix}[]")
    else:
        paths.add(prefix)
    return paths


def validate(body):
    """(errors, dumped items, extra paths) of a push body."""
    from pydantic import ValidationError
    from sekoia_automation_models.connector import AssetList
    from sekoia_automation_models.ocsf.user import UserOCSFModel

    if not isinstance(body, dict) or set(body) != {"version", "items"}:
        return [f"the body is not {{version, items}}: {sorted(body) if isinstance(body, dict) else type(body).__name__}"], [], []
    if body["version"] != 1:
        return [f"version is {body['version']!r}, not 1"], [], []
    errors = []
    for index, item in enumerate(body["items"] if isinstance(body["items"], list) else []):
        try:
            UserOCSFModel.model_validate(item)
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(p) for p in err.get("loc", ()))
                errors.append(f"items[{index}].{loc}: {err.get('msg')} [{err.get('type')}]")
    try:
        assets = AssetList.model_validate(body)
    except ValidationError as e:
        return errors or [str(e)], [], []
    for index, item in enumerate(assets.items):
        if not isinstance(item, UserOCSFModel):
            errors.append(f"items[{index}] validated as {type(item).__name__}, not UserOCSFModel")
    if errors:
        return errors, [], []
    dumped = assets.model_dump(mode="json", exclude_none=True)["items"]
    sent = set().union(*(leaf_paths(item) for item in body["items"])) if body["items"] else set()
    kept = set().union(*(leaf_paths(item) for item in dumped)) if dumped else set()
    return [], dumped, sorted(sent - kept)


class State:
    def __init__(self, api_key, connector, script):
        self.api_key = api_key
        self.connector = connector
        self.script = script
        self.lock = threading.Lock()
        self.requests = 0
        self.pushes = 0
        self.polls = {}  # task id -> polls so far
        self.stopping = threading.Event()

    def log(self, record):
        with self.lock:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sekoia-api-double"

        def log_message(self, *args):  # quiet: stdout is the record
            pass

        def reply(self, status, body, headers=()):
            data = json.dumps(body).encode() if body is not None else b""
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client is gone (killed while it waited): nothing to answer
                self.close_connection = True

        def read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return None
            return self.rfile.read(length)

        def authorised(self, record):
            presented = self.headers.get("Authorization", "")
            if presented == f"Bearer {state.api_key}":
                return True
            record["status"] = 401
            state.log(record)
            # Names what was presented, as a careless API might: the client must not print it.
            self.reply(401, {"code": "invalid_api_key",
                             "message": f"The API key is not valid (got {presented[7:] or 'nothing'})"})
            return False

        def do_POST(self):
            with state.lock:
                state.requests += 1
                n = state.requests
            record = {"n": n, "method": "POST", "path": self.path, "kind": "other"}
            body = self.read_body()
            if not self.path.startswith(PUSH_PREFIX):
                record["status"] = 404
                state.log(record)
                return self.reply(404, {"code": "not_found", "message": "no such path"})
            record["kind"] = "push"
            if not self.authorised(record):
                return
            if self.path[len(PUSH_PREFIX):] != state.connector:
                record["status"] = 404
                state.log(record)
                return self.reply(404, {"code": "connector_not_found",
                                        "message": "No asset connector with this UUID"})
            if self.headers.get("Content-Type") != "application/json":
                record["status"] = 415
                state.log(record)
                return self.reply(415, {"code": "unsupported_media_type",
                                        "message": f"Content-Type {self.headers.get('Content-Type')!r}"})
            with state.lock:
                state.pushes += 1
                push = state.pushes
            record["push"] = push
            try:
                parsed = json.loads(body or b"null")
            except ValueError as e:
                record.update(status=400, errors=[f"not JSON: {e}"])
                state.log(record)
                return self.reply(400, {"code": "invalid_body", "message": "not JSON"})
            items = parsed.get("items") if isinstance(parsed, dict) else None
            record["items"] = len(items) if isinstance(items, list) else None
            errors, dumped, extra = validate(parsed)
            record["errors"] = errors
            record["extra_paths"] = extra
            scripted = state.script.get("push", {}).get(str(push))
            if scripted and scripted.get("hang"):
                record["hang"] = True
                state.log(record)
                state.stopping.wait(HANG_LIMIT)
                return self.reply(503, {"code": "unavailable", "message": "hung"})
            if scripted and scripted.get("drop"):
                record["drop"] = True
                state.log(record)
                self.close_connection = True
                self.connection.close()
                return
            if errors:
                record["status"] = 400
                state.log(record)
                return self.reply(400, {"code": "invalid_body", "message": "; ".join(errors)[:2000]})
            if scripted:
                status = scripted["status"]
                record["status"] = status
                state.log(record)
                headers = [("Retry-After", scripted["retry_after"])] if "retry_after" in scripted else []
                return self.reply(status, {"code": scripted.get("code", f"http_{status}"),
                                           "message": scripted.get("message", f"scripted HTTP {status}")},
                                  headers)
            answer = {}
            if state.script.get("tasks", True) and items:
                task_id = str(uuid.uuid4())
                with state.lock:
                    state.polls[task_id] = 0
                answer["task_id"] = task_id
                record["task_id"] = task_id
            record.update(status=200, uids=[item["user"]["uid"] for item in items], dumped=dumped)
            state.log(record)
            self.reply(200, answer)

        def do_GET(self):
            with state.lock:
                state.requests += 1
                n = state.requests
            record = {"n": n, "method": "GET", "path": self.path, "kind": "other"}
            if not self.path.startswith(TASK_PREFIX):
                record["status"] = 404
                state.log(record)
                return self.reply(404, {"code": "not_found", "message": "no such path"})
            record["kind"] = "task"
            if not self.authorised(record):
                return
            task_id = self.path[len(TASK_PREFIX):]
            with state.lock:
                polls = state.polls.get(task_id)
                if polls is not None:
                    state.polls[task_id] = polls + 1
            record["task_id"] = task_id
            if polls is None:
                record["status"] = 404
                state.log(record)
                return self.reply(404, {"code": "task_not_found", "message": "No such task"})
            states = state.script.get("task_states") or ["FINISHED"]
            status = states[min(polls, len(states) - 1)]
            record.update(status=200, task_status=status)
            state.log(record)
            answer = {"uuid": task_id, "status": status}
            if status not in ("PENDING", "RUNNING", "FINISHED"):
                answer["error"] = state.script.get("task_error", "ingestion failed")
            self.reply(200, answer)

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--connector", required=True)
    parser.add_argument("--script", default="{}")
    args = parser.parse_args(argv)
    try:
        import sekoia_automation_models  # noqa: F401  (fail now, not at the first push)
    except ImportError as e:
        sys.stderr.write(f"sekoia_api: {e}; use the project venv (make venv)\n")
        return 2
    state = State(args.api_key, args.connector, json.loads(args.script))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.log({"url": f"http://127.0.0.1:{server.server_address[1]}"})
    # Until the test that started it closes our stdin.
    for _ in sys.stdin:
        pass
    state.stopping.set()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
