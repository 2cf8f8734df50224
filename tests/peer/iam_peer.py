#!/usr/bin/env python3
"""Local IAM test peer for aws-iam-users: an in-process moto server with a seeded sample account.

Subcommands
-----------
  serve    [--port 0] [--users-bulk N] [--auth on|off|web-identity] [--verbose] [--ignore-stdin]
      Start moto on 127.0.0.1, seed the account below, switch on auth mode (SigV4 verified and
      IAM policies evaluated) unless --auth off, print ONE JSON line on stdout:
        {"endpoint": "http://127.0.0.1:PORT", "account_id": "123456789012", "region": "us-east-1",
         "auth": true, "principals": {"admin": {"user_name", "access_key_id", "secret_access_key"},
         "restricted": {...}}, "users": <IAM users in the account>,
         "web_identity": {"role_arn": "arn:aws:iam::123456789012:role/connectors/connector-reader-role",
                          "oidc_provider_arn": "..."}}
      --auth web-identity is auth mode in which STS AssumeRoleWithWebIdentity alone is exempt, as
      in AWS (the OIDC token is its credential; the SDKs send it unsigned): moto in auth mode would
      answer the unsigned call with HTTP 500. Every other request, among them every call made with
      the assumed role's credentials, is still verified (signature, session token, role policy).
      moto accepts any token: token validation is not part of this peer.
      then serve until stdin reaches EOF (the parent closed it or died), SIGTERM or SIGINT; exit 0.
      Nothing else is ever written to stdout (file descriptor 1 is pointed at stderr), and secrets
      are never written to stderr. With --ignore-stdin only a signal stops it (for manual use:
      `python iam_peer.py serve` run in the background would otherwise see /dev/null = EOF).
  run      [--port 0] [--users-bulk N] [--auth on|off] [--verbose] -- CMD ARGS...
      Like serve, but run CMD with AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the
      admin principal) and AWS_REGION=us-east-1 set, pass its stdout/stderr through, stop the server
      and exit with CMD's exit code (128+N if CMD died of signal N, 127 if CMD cannot be started).
  manifest [--users-bulk N]
      Print the seed table below as JSON (no secrets, no moto-generated values such as key ids,
      user ids or dates). Needs only the standard library.

Requirements: tests/peer/requirements.txt (moto[server]==5.2.5, boto3). The account is moto's
default, 123456789012. Seeding happens with auth off; auth mode is switched on afterwards with
`POST /moto-api/reset-auth` (text/plain body "0").
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

# ================================================================================================
# Seed data: the project's sample account. Tests read expectations from here (or `manifest`).
# ================================================================================================

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
PARTITION = "aws"

ADMIN_PRINCIPAL = "connector-admin"
RESTRICTED_PRINCIPAL = "connector-restricted"

BULK_PATH = "/bulk/"
BULK_NAME_FORMAT = "bulk-user-%05d"  # bulk-user-00001 ...

# Policy documents. They are sent as JSON text with ensure_ascii=False (real unicode, no \u escapes).
DOC_ADMIN_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DOC_DEV_S3 = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "DevBuckets",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::dev-bucket/*",
        "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "a&b<c>\"d\"'e'"]}},
    }],
}
DOC_IAM_READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow",
                   "Action": ["iam:Get*", "iam:List*", "iam:GenerateCredentialReport"],
                   "Resource": "*"}],
}
DOC_BILLING_VIEW = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Budgets€", "Effect": "Allow",
                   "Action": ["aws-portal:ViewBilling", "budgets:View*"], "Resource": "*"}],
}
DOC_DEPLOYER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["cloudformation:*", "iam:PassRole"],
                   "Resource": "*",
                   "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}],
}
DOC_BOB_SQS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
                   "Resource": "arn:aws:sqs:us-east-1:123456789012:queue-ünïcode-東京",
                   "Condition": {"StringEquals": {"aws:PrincipalTag/note": "x & y < z > w"}}}],
}
DOC_HEIDI_ESCAPES = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "EscapeMe", "Effect": "Deny", "Action": "s3:DeleteObject",
                   "Resource": "arn:aws:s3:::r&d-<archive>/*"}],
}
DOC_CI_DEPLOY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage"],
                   "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/app"}],
}
DOC_DEV_INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:*",
                   "Resource": "arn:aws:logs:*:*:log-group:/dev/*"}],
}
DOC_DENY_DELETE_USER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}],
}
DOC_CONTRACTOR_LIMITS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "NoIAM", "Effect": "Deny", "NotAction": ["s3:*", "sts:GetCallerIdentity"],
                   "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:PrincipalTag/vendor": "Zoë & Co <GmbH>"}}}],
}
DOC_SECURITY_AUDIT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["access-analyzer:*", "cloudtrail:LookupEvents"],
                   "Resource": "*"}],
}
DOC_RESTRICTED = {  # the harness's restricted principal: IAM allowed, two listing calls denied
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AllowIam", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Sid": "DenyMfaAndTags", "Effect": "Deny",
         "Action": ["iam:ListMFADevices", "iam:ListUserTags"], "Resource": "*"},
    ],
}

# Customer managed policies: name -> (path, description, document)
POLICIES = {
    "AdminAll":       ("/",                  "Full administrator access",       DOC_ADMIN_ALL),
    "DevS3Access":    ("/custom/",           "Dev bucket access & more <s3>",   DOC_DEV_S3),
    "IamReadOnly":    ("/security/",         "Read-only IAM for auditors",      DOC_IAM_READ_ONLY),
    "BillingView":    ("/finance/",          "Billing – read only (€, Zoë)",    DOC_BILLING_VIEW),
    "DeployerAccess": ("/service-accounts/", "CloudFormation deployer",         DOC_DEPLOYER),
}

# Groups: (name, path, managed policy names, {inline policy name: document})
GROUPS = [
    ("Admins",      "/",                     ["AdminAll"],              {}),
    ("Developers",  "/engineering/",         ["DevS3Access"],           {"dev-inline": DOC_DEV_INLINE}),
    ("Backend",     "/engineering/backend/", [],                        {}),
    ("Ops",         "/ops/",                 [],                        {"deny-delete-user": DOC_DENY_DELETE_USER}),
    ("OnCall",      "/ops/",                 ["IamReadOnly"],           {}),
    ("ReadOnly",    "/",                     ["IamReadOnly"],           {}),
    ("Billing",     "/finance/",             ["BillingView"],           {}),
    ("Security",    "/security/",            ["IamReadOnly"],           {"security-audit": DOC_SECURITY_AUDIT}),
    ("DataScience", "/r&d/",                 [],                        {}),
    ("Contractors", "/contractors/",         [],                        {"contractor-limits": DOC_CONTRACTOR_LIMITS}),
    ("Interns",     "/",                     [],                        {}),  # no members
]

ALL_TEN = ["Admins", "Developers", "Backend", "Ops", "OnCall",
           "ReadOnly", "Billing", "Security", "DataScience", "Contractors"]

A, I = "Active", "Inactive"
NOTE_XML = "R&D <core> \"quoted\" 'single' a>b"  # moto-only: real IAM rejects & < > " ' in tag values

# Users. Columns:
#   name, path, groups, access keys (status of each, in creation order),
#   console (None = no login profile, "set" = password, "reset" = password + PasswordResetRequired),
#   mfa (number of enabled virtual MFA devices), tags [(key, value)], managed policy names,
#   {inline policy name: document}
USERS = [
    # name                          path                     groups                     keys    console  mfa  tags                                                         managed                            inline
    ("alice",                       "/",                     ["Admins"],                (A, I), "set",   1,   [("team", "platform"), ("cost-center", "CC-1001")],         [],                                {}),
    ("bob",                         "/engineering/",         ["Developers"],            (A,),   "reset", 0,   [("team", "backend"), ("owner", "Zoë Ångström")],            [],                                {"bob-sqs": DOC_BOB_SQS}),
    ("carol",                       "/engineering/backend/", ["Developers", "Backend"], (A,),   "set",   2,   [("location", "東京"), ("empty", "")],                         [],                                {}),
    ("dave",                        "/ops/",                 ["Ops", "OnCall"],         (A, I), None,    0,   [("oncall", "primary")],                                      [],                                {}),
    ("erin",                        "/finance/",             ["Billing"],               (),     "set",   1,   [],                                                           ["IamReadOnly"],                   {}),
    ("frank",                       "/contractors/",         ["Contractors"],           (A,),   None,    0,   [("expires", "2026-12-31"), ("note", NOTE_XML)],              [],                                {}),
    ("grace",                       "/",                     ALL_TEN,                   (),     "reset", 1,   [("role", "security lead")],                                  [],                                {}),
    ("heidi",                       "/engineering/backend/", ["Backend"],               (A,),   "set",   0,   [("Name", "Heidi Müller-Łukasz")],                            ["DevS3Access"],                   {"heidi-escapes": DOC_HEIDI_ESCAPES}),
    ("svc-ci",                      "/service-accounts/",    [],                        (A, I), None,    0,   [("purpose", "ci/cd pipeline")],                              ["DevS3Access", "DeployerAccess"], {"ci-deploy": DOC_CI_DEPLOY}),
    ("svc+deploy=bot,v2.x@corp-e_1", "/service-accounts/",   [],                        (A,),   None,    0,   [("purpose", "deploy")],                                      ["DeployerAccess"],                {}),
    ("peggy",                       "/r&d/",                 ["DataScience"],           (),     "set",   0,   [("dept", "R&D")],                                            [],                                {}),  # "&" moto-only
    ("mallory",                     "/contractors/",         [],                        (),     None,    0,   [],                                                           [],                                {}),
    # Principals the harness signs with in auth mode (they are IAM users too):
    (ADMIN_PRINCIPAL,               "/automation/",          [],                        (A,),   None,    0,   [],                                                           ["AdminAll"],                      {}),
    (RESTRICTED_PRINCIPAL,          "/automation/",          [],                        (A,),   None,    0,   [],                                                           [],                                {"restricted-iam": DOC_RESTRICTED}),
]

# The role the connector assumes with an OIDC token (seed: "IAM Role with OIDC (Recommended)"):
# trusted by a federated OIDC provider, allowed the IAM reads and sts:GetCallerIdentity.
READER_ROLE = "connector-reader-role"
READER_ROLE_PATH = "/connectors/"
OIDC_PROVIDER_URL = "https://oidc.connector.example"
OIDC_AUDIENCE = "sts.amazonaws.com"
DOC_CALLER_IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
}


def oidc_provider_arn():
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{OIDC_PROVIDER_URL.split('://', 1)[1]}"


def reader_role_arn():
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role{READER_ROLE_PATH}{READER_ROLE}"


def reader_role_trust_policy():
    host = OIDC_PROVIDER_URL.split("://", 1)[1]
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": oidc_provider_arn()},
                       "Action": "sts:AssumeRoleWithWebIdentity",
                       "Condition": {"StringEquals": {f"{host}:aud": OIDC_AUDIENCE}}}],
    }


# Extras per user: an SSH public key (RSA 2048, throwaway, private half discarded) and an X.509
# signing certificate (self-signed EC P-256, throwaway; moto validates the PEM).
SSH_PUBLIC_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDDxzeDb/m+9PbhUZnAV/pMfEPdwLc7Gon4vGYx3vxIfnu4gdkC9oB5Sckt71Ys"
    "JA+p9DPGGMqCW6RHGgA0L4b597EvnvldfinlpvNUIwUcIrMmuJUcJQhPs8Rb9pWEaNtHcI/niwpi8vTQT12YPpr+vniFQyDAqls5"
    "hTYdLeIYETyG2uskZqJzTNd6PRfHT/rVnaindjbDCth6JI3HuiYzXMt6uovcG5OsbWJIVNpJfCknJ5DdkY6IUn5fLRS4ut6z/zLg"
    "lIT2bvC91GWwrPzbtTjqj+lI84OBkpsWBrp21o/7Hdq7HfLg2OsfVZS/wGdw0Z9/4a3m0bHuissx0+Or carol@laptop.example"
)
SIGNING_CERT_PEM = """-----BEGIN CERTIFICATE-----
MIIBhDCCASqgAwIBAgIGHy49TFtqMAoGCCqGSM49BAMCMEkxKDAmBgNVBAMMH2F3
cy1pYW0tdXNlcnMgdGVzdCBzaWduaW5nIGNlcnQxHTAbBgNVBAoMFEV4YW1wbGUg
VGVzdCBGaXh0dXJlMB4XDTI1MDEwMTAwMDAwMFoXDTM1MDEwMTAwMDAwMFowSTEo
MCYGA1UEAwwfYXdzLWlhbS11c2VycyB0ZXN0IHNpZ25pbmcgY2VydDEdMBsGA1UE
CgwURXhhbXBsZSBUZXN0IEZpeHR1cmUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AATeGzwxY6Ho5t0llamcIXdWw2ZLubUCkKRfVSrWHQsy7K8UrUUXJPxFQ6w5H6hz
wJhaANJk6Lu6n6N8oT+MHA4JMAoGCCqGSM49BAMCA0gAMEUCICAZd1MbUrncAqGR
T9s4/CTo/+I5UatNWtQVghkdriWhAiEAhUVj+YhiecCW58kRa/8ugIuA+OVEwlry
llnNacseLWw=
-----END CERTIFICATE-----
"""
SSH_KEYS = {"carol": [SSH_PUBLIC_KEY]}
SIGNING_CERTS = {"dave": [SIGNING_CERT_PEM]}

# A virtual MFA device that exists but is assigned to nobody (ListVirtualMFADevices Unassigned).
UNASSIGNED_MFA_DEVICES = ["spare-token"]

MFA_CODES = ("123456", "654321")  # moto accepts any two 6-digit codes


# ================================================================================================
# Derived names (deterministic, AWS rules) and the manifest
# ================================================================================================

def user_arn(name, path):
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user{path}{name}"


def group_arn(name, path):
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:group{path}{name}"


def policy_arn(name):
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy{POLICIES[name][0]}{name}"


def mfa_device_names(user):
    n = next(u[5] for u in USERS if u[0] == user)
    return [f"{user}-mfa-{i}" for i in range(1, n + 1)]


def mfa_serial(device_name):
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:mfa/{device_name}"


def policy_text(doc):
    return json.dumps(doc, ensure_ascii=False)


def manifest(users_bulk=0):
    principals = {ADMIN_PRINCIPAL: "admin", RESTRICTED_PRINCIPAL: "restricted"}
    users = []
    for name, path, groups, keys, console, _mfa, tags, managed, inline in USERS:
        users.append({
            "name": name,
            "path": path,
            "arn": user_arn(name, path),
            "groups": list(groups),
            "access_keys": list(keys),
            "console": console is not None,
            "password_reset_required": console == "reset",
            "mfa_devices": [mfa_serial(d) for d in mfa_device_names(name)],
            "tags": [{"Key": k, "Value": v} for k, v in tags],
            "managed_policies": [{"name": p, "arn": policy_arn(p)} for p in managed],
            "inline_policies": {p: policy_text(d) for p, d in inline.items()},
            "ssh_public_keys": len(SSH_KEYS.get(name, [])),
            "signing_certificates": len(SIGNING_CERTS.get(name, [])),
            "principal": principals.get(name),
        })
    groups = []
    for name, path, managed, inline in GROUPS:
        groups.append({
            "name": name,
            "path": path,
            "arn": group_arn(name, path),
            "members": [u[0] for u in USERS if name in u[2]],
            "managed_policies": [{"name": p, "arn": policy_arn(p)} for p in managed],
            "inline_policies": {p: policy_text(d) for p, d in inline.items()},
        })
    policies = [{"name": n, "path": p, "arn": policy_arn(n), "description": d, "document": policy_text(doc)}
                for n, (p, d, doc) in POLICIES.items()]
    return {
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "principals": {"admin": ADMIN_PRINCIPAL, "restricted": RESTRICTED_PRINCIPAL},
        "users": users,
        "groups": groups,
        "policies": policies,
        "unassigned_mfa_devices": [mfa_serial(d) for d in UNASSIGNED_MFA_DEVICES],
        "bulk": {"count": users_bulk, "path": BULK_PATH, "name_format": BULK_NAME_FORMAT,
                 "first": BULK_NAME_FORMAT % 1 if users_bulk else None,
                 "last": BULK_NAME_FORMAT % users_bulk if users_bulk else None},
        "users_total": len(USERS) + users_bulk,
        "roles": [{"name": READER_ROLE, "path": READER_ROLE_PATH, "arn": reader_role_arn(),
                   "trust_policy": policy_text(reader_role_trust_policy()),
                   "managed_policies": [{"name": "IamReadOnly", "arn": policy_arn("IamReadOnly")}],
                   "inline_policies": {"caller-identity": policy_text(DOC_CALLER_IDENTITY)}}],
    }


# ================================================================================================
# Runtime
# ================================================================================================

READY_TIMEOUT_S = 20.0
HTTP_TIMEOUT_S = 10.0


def log(msg):
    sys.stderr.write(f"iam_peer: {msg}\n")
    sys.stderr.flush()


class Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler to unwind startup or the serve loop."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum, _frame):
    raise Stop(signum)


def protect_stdout():
    """Keep a private handle on the real stdout and point fd 1 (and sys.stdout) at stderr, so that
    nothing but our one JSON line can reach the parent's stdout pipe (moto/werkzeug print)."""
    real = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real


def _one_line_errors(record):
    """Shorten werkzeug's 'Error on request' tracebacks (moto answers 500 for unsigned requests in
    auth mode and for unimplemented actions) to their last line, unless --verbose."""
    msg = record.getMessage()
    if "\n" in msg:
        lines = [ln for ln in msg.splitlines() if ln.strip()]
        record.msg, record.args = f"moto HTTP 500: {lines[-1].strip()}", None
    return True


class MotoPeer:
    def __init__(self, port, verbose):
        import logging

        import moto

        if moto.__version__ != "5.2.5":
            log(f"warning: moto {moto.__version__} (tested with 5.2.5, see requirements.txt)")
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        try:  # moto >= 5.2.5 (older: werkzeug's default handler)
            from moto.moto_server.werkzeug_app import MotoRequestHandler
        except ImportError:
            MotoRequestHandler = None
        from werkzeug.serving import make_server

        wz = logging.getLogger("werkzeug")
        wz.setLevel(logging.INFO if verbose else logging.ERROR)
        if not verbose:
            wz.addFilter(_one_line_errors)
        app = DomainDispatcherApplication(create_backend_app)
        # Binding happens here, synchronously: a busy port fails now, not in a background thread.
        try:
            self.server = make_server("127.0.0.1", port, app, threaded=True,
                                      **({"request_handler": MotoRequestHandler} if MotoRequestHandler else {}))
        except SystemExit:  # werkzeug prints "Address already in use" and calls sys.exit(1)
            raise RuntimeError(f"cannot listen on 127.0.0.1:{port}") from None
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="moto-server", daemon=True)
        self.thread.start()

    def wait_ready(self, timeout=READY_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/config", timeout=2) as r:
                    if r.status in (200, 201):
                        return
                    last = f"HTTP {r.status}"
            except (urllib.error.URLError, OSError) as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError(f"moto server at {self.endpoint} not ready after {timeout:g} s (last error: {last})")

    def set_auth(self, on):
        body = b"0" if on else b"inf"
        req = urllib.request.Request(self.endpoint + "/moto-api/reset-auth", data=body, method="POST",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as r:
            reply = json.loads(r.read().decode())
        if reply.get("status") != "ok":
            raise RuntimeError(f"reset-auth failed: {reply}")

    def stop(self):
        try:
            self.server.shutdown()
        finally:
            self.server.server_close()
            self.thread.join(timeout=5)


def iam_client(endpoint, key_id="testing", secret="testing", token=None):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "iam", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"mode": "standard", "max_attempts": 2},
                      connect_timeout=HTTP_TIMEOUT_S, read_timeout=HTTP_TIMEOUT_S),
    )


def seed(endpoint, users_bulk):
    """Create the account described by the tables above (auth must be off). Returns the secrets of
    the two principals: {"admin": {...}, "restricted": {...}}."""
    iam = iam_client(endpoint)
    for name, (path, desc, doc) in POLICIES.items():
        iam.create_policy(PolicyName=name, Path=path, Description=desc, PolicyDocument=policy_text(doc))
    for name, path, managed, inline in GROUPS:
        iam.create_group(GroupName=name, Path=path)
        for p in managed:
            iam.attach_group_policy(GroupName=name, PolicyArn=policy_arn(p))
        for p, doc in inline.items():
            iam.put_group_policy(GroupName=name, PolicyName=p, PolicyDocument=policy_text(doc))

    secrets = {}
    for i, (name, path, groups, keys, console, _mfa, tags, managed, inline) in enumerate(USERS):
        kw = {"UserName": name, "Path": path}
        if tags:
            kw["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        iam.create_user(**kw)
        for g in groups:
            iam.add_user_to_group(GroupName=g, UserName=name)
        for status in keys:
            ak = iam.create_access_key(UserName=name)["AccessKey"]
            if status != "Active":
                iam.update_access_key(UserName=name, AccessKeyId=ak["AccessKeyId"], Status=status)
            if name in (ADMIN_PRINCIPAL, RESTRICTED_PRINCIPAL):
                role = "admin" if name == ADMIN_PRINCIPAL else "restricted"
                secrets[role] = {"user_name": name, "access_key_id": ak["AccessKeyId"],
                                 "secret_access_key": ak["SecretAccessKey"]}
        if console is not None:
            password = f"Seed-{i:02d}-Passw0rd!"
            iam.create_login_profile(UserName=name, Password=password,
                                     PasswordResetRequired=(console == "reset"))
            if console == "reset":
                # moto 5.2.5 ignores PasswordResetRequired on CreateLoginProfile; Update honours it,
                # but an Update without Password deletes the password (= the login profile).
                iam.update_login_profile(UserName=name, Password=password, PasswordResetRequired=True)
        for dev in mfa_device_names(name):
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=dev)["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                  AuthenticationCode1=MFA_CODES[0], AuthenticationCode2=MFA_CODES[1])
        for p in managed:
            iam.attach_user_policy(UserName=name, PolicyArn=policy_arn(p))
        for p, doc in inline.items():
            iam.put_user_policy(UserName=name, PolicyName=p, PolicyDocument=policy_text(doc))
        for body in SSH_KEYS.get(name, []):
            iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=body)
        for body in SIGNING_CERTS.get(name, []):
            iam.upload_signing_certificate(UserName=name, CertificateBody=body)
    for dev in UNASSIGNED_MFA_DEVICES:
        iam.create_virtual_mfa_device(VirtualMFADeviceName=dev)

    iam.create_open_id_connect_provider(Url=OIDC_PROVIDER_URL, ClientIDList=[OIDC_AUDIENCE],
                                        ThumbprintList=["0" * 40])
    iam.create_role(RoleName=READER_ROLE, Path=READER_ROLE_PATH,
                    AssumeRolePolicyDocument=policy_text(reader_role_trust_policy()))
    iam.attach_role_policy(RoleName=READER_ROLE, PolicyArn=policy_arn("IamReadOnly"))
    iam.put_role_policy(RoleName=READER_ROLE, PolicyName="caller-identity",
                        PolicyDocument=policy_text(DOC_CALLER_IDENTITY))

    if users_bulk:
        # Plain users only, created directly in the in-process moto backend (the server runs in this
        # process): ~1000x faster than one CreateUser round trip each (~4.5 ms), same stored result.
        from moto.iam.models import iam_backends

        backend = iam_backends[ACCOUNT_ID][PARTITION]
        for n in range(1, users_bulk + 1):
            backend.create_user(REGION, BULK_NAME_FORMAT % n, BULK_PATH)

    count = len(iam.list_users()["Users"])  # moto never paginates ListUsers
    expected = len(USERS) + users_bulk
    if count != expected:
        raise RuntimeError(f"seeded {count} users, expected {expected}")
    return secrets, count


def exempt_web_identity_from_auth():
    """In auth mode, let STS AssumeRoleWithWebIdentity through unsigned, as AWS does; every other
    request stays verified. (moto 5.2.5 checks every request, and an unsigned one fails with 500.)"""
    from moto.core.authorization import ActionAuthenticatorMixin

    checked = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def authenticate(self, resource="*"):
        if self._get_action() == "AssumeRoleWithWebIdentity" and "Authorization" not in self.headers:
            return None
        return checked(self, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authenticate


def sts_client(endpoint, key_id=None, secret=None, token=None):
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    signed = key_id is not None
    return boto3.client(
        "sts", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=HTTP_TIMEOUT_S,
                      read_timeout=HTTP_TIMEOUT_S, **({} if signed else {"signature_version": UNSIGNED})),
    )


def self_check_web_identity(endpoint):
    """The reader role is assumable unsigned, and its credentials are verified and authorised."""
    from botocore.exceptions import ClientError

    creds = sts_client(endpoint).assume_role_with_web_identity(
        RoleArn=reader_role_arn(), RoleSessionName="peer-self-check",
        WebIdentityToken="peer.self.check")["Credentials"]
    iam_client(endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).list_users(MaxItems=1)
    try:
        iam_client(endpoint, creds["AccessKeyId"], "x" * 40, creds["SessionToken"]).list_users(MaxItems=1)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("SignatureDoesNotMatch", "InvalidClientTokenId"):
            raise RuntimeError(f"web identity self-check: unexpected error {e.response['Error']['Code']}")
    else:
        raise RuntimeError("web identity self-check: a wrong secret for an assumed role was accepted")


def self_check(endpoint, secrets, auth):
    """Prove the peer is usable: the admin key works; in auth mode a key moto did not issue fails."""
    from botocore.exceptions import ClientError

    adm = secrets["admin"]
    iam_client(endpoint, adm["access_key_id"], adm["secret_access_key"]).get_user(UserName=ADMIN_PRINCIPAL)
    if auth:
        try:
            iam_client(endpoint, "AKIAIOSFODNN7EXAMPLE", "x" * 40).get_user(UserName=ADMIN_PRINCIPAL)
        except ClientError as e:
            if e.response["Error"]["Code"] != "InvalidClientTokenId":
                raise RuntimeError(f"auth self-check: unexpected error {e.response['Error']['Code']}")
        else:
            raise RuntimeError("auth self-check: an unknown access key was accepted; auth mode is not on")


def start(args):
    """Start, seed, enable auth. Returns (peer, info dict for the JSON line)."""
    t0 = time.monotonic()
    peer = MotoPeer(args.port, args.verbose)
    try:
        peer.wait_ready()
        log(f"moto listening on {peer.endpoint} ({time.monotonic() - t0:.2f} s)")
        secrets, count = seed(peer.endpoint, args.users_bulk)
        auth = args.auth in ("on", "web-identity")
        if args.auth == "web-identity":
            exempt_web_identity_from_auth()
        if auth:
            peer.set_auth(True)
        self_check(peer.endpoint, secrets, auth)
        if args.auth == "web-identity":
            self_check_web_identity(peer.endpoint)
        log(f"seeded {count} users, auth {args.auth}; ready in {time.monotonic() - t0:.2f} s")
    except BaseException:
        peer.stop()
        raise
    info = {
        "endpoint": peer.endpoint,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "auth": auth,
        "principals": secrets,
        "users": count,
        "web_identity": {"role_arn": reader_role_arn(), "oidc_provider_arn": oidc_provider_arn()},
    }
    return peer, info


def cmd_serve(args, real_stdout):
    peer, info = start(args)
    try:
        stop = threading.Event()
        if not args.ignore_stdin:
            def watch_stdin():
                # Raw os.read on fd 0, not sys.stdin: a daemon thread blocked inside the buffered
                # reader holds its lock, and interpreter shutdown then aborts (SIGABRT).
                try:
                    while os.read(0, 65536):
                        pass
                except OSError:
                    pass
                stop.set()
            threading.Thread(target=watch_stdin, name="stdin-eof", daemon=True).start()
        real_stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
        real_stdout.flush()
        real_stdout.close()
        while not stop.wait(0.5):
            pass
        log("stdin closed; stopping")
    except Stop as s:
        log(f"{s}; stopping")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        peer.stop()
    return 0


def child_env(info):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("AWS_ENDPOINT_URL_") or k in (
               "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
               "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME",
               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))}
    adm = info["principals"]["admin"]
    env.update({
        "AWS_ENDPOINT_URL": info["endpoint"],
        "AWS_ACCESS_KEY_ID": adm["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": adm["secret_access_key"],
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    })
    return env


def cmd_run(args, real_stdout):
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        log("run: missing command after --")
        return 2
    peer, info = start(args)
    proc = None
    try:
        log(f"running {cmd[0]} against {info['endpoint']} as {ADMIN_PRINCIPAL}")
        try:
            proc = subprocess.Popen(cmd, env=child_env(info), stdin=subprocess.DEVNULL,
                                    stdout=real_stdout.fileno(), stderr=2)
        except OSError as e:
            log(f"cannot start {cmd[0]}: {e}")
            return 127

        def forward(signum, _frame):
            if proc.poll() is None:
                if signum == signal.SIGINT:
                    # A terminal Ctrl-C already reached the child (same process group); if only we
                    # were signalled, terminate the child after a grace period.
                    def later():
                        time.sleep(2)
                        if proc.poll() is None:
                            proc.terminate()
                    threading.Thread(target=later, daemon=True).start()
                else:
                    proc.send_signal(signum)

        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, forward)
        rc = proc.wait()
        return rc if rc >= 0 else 128 - rc
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        peer.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local IAM test peer (moto) for aws-iam-users")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
        p.add_argument("--users-bulk", type=int, default=0, metavar="N",
                       help=f"add N plain users under {BULK_PATH}")
        p.add_argument("--auth", choices=["on", "off", "web-identity"], default="on",
                       help="moto auth mode: verify SigV4 and evaluate IAM policies (default on); "
                            "web-identity: the same, with unsigned AssumeRoleWithWebIdentity allowed")
        p.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")

    p = sub.add_parser("serve", help="serve until stdin EOF / SIGTERM / SIGINT")
    common(p)
    p.add_argument("--ignore-stdin", action="store_true", help="do not stop on stdin EOF (signals only)")
    p = sub.add_parser("run", help="run a command against the peer")
    common(p)
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    p = sub.add_parser("manifest", help="print the seed table as JSON")
    p.add_argument("--users-bulk", type=int, default=0, metavar="N")
    args = ap.parse_args(argv)
    if getattr(args, "users_bulk", 0) < 0:
        ap.error("--users-bulk must be >= 0")

    if args.command == "manifest":
        json.dump(manifest(args.users_bulk), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0

    # Never send 127.0.0.1 traffic (ours, boto3's, the `run` child's) through an HTTP proxy.
    for var in ("NO_PROXY", "no_proxy"):
        os.environ[var] = ",".join(x for x in (os.environ.get(var), "127.0.0.1", "localhost") if x)
    real_stdout = protect_stdout()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        if args.command == "serve":
            return cmd_serve(args, real_stdout)
        return cmd_run(args, real_stdout)
    except Stop as s:
        log(f"{s} during startup; stopped")
        return 128 + s.signum
    except ImportError as e:
        log(f"error: {e}\n  use the project venv: python3 -m venv .venv && "
            ".venv/bin/pip install -r tests/peer/requirements.txt; then .venv/bin/python tests/peer/iam_peer.py ...")
        return 1
    except Exception as e:  # noqa: BLE001 - report and fail, never a traceback with secrets in it
        log(f"error: {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
