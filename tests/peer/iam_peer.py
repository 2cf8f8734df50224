#!/usr/bin/env python3
"""Local IAM test peer for aws-iam-users: an in-process moto server with a seeded sample account.

Subcommands
-----------
  serve    [--port 0] [--users-bulk N] [--auth on|off|web-identity] [--organization] [--verbose]
           [--ignore-stdin]
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
      --organization also makes the account the management account of an AWS Organization with
      the member accounts of ORGANIZATION below (each with its own users; all but one with the
      member role, which trusts the management account and requires ORG_EXTERNAL_ID; the
      management account has it too), one member account closed (SUSPENDED), and STS AssumeRole
      checked as AWS does (patch_assume_role); the JSON line then has an "organization" key:
        {"management_account", "member_role", "external_id", "accounts": [{"id", "name",
         "state", "member_role": bool, "alias", "users": [<user ARNs>]}]}
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
      user ids or dates). Needs only the standard library. Per user, besides the seeded facts:
      `admin`/`admin_reason` (ADMIN_VERDICTS), `permissions_boundary`,
      `service_specific_credentials`; per managed policy `aws_managed`; and `account_alias`,
      `root_account`, `aws_managed_policies`, `service_credential_services`, `invalid_actions`.

Requirements: tests/peer/requirements.txt (moto[server]==5.2.5, boto3). The account is moto's
default, 123456789012. Seeding happens with auth off; auth mode is switched on afterwards with
`POST /moto-api/reset-auth` (text/plain body "0"). moto is patched first (patch_moto) where it
lacks or misstates what the connector reads: ListServiceSpecificCredentials, user permissions
boundaries, the credential report, and more; each patch runs behind moto's own authentication
and authorisation, so auth mode applies to it as to moto's actions.
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
import warnings

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
DOC_OPS_HELPER = {  # an administrator under a harmless name (Action as a one-element list)
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Helper", "Effect": "Allow", "Action": ["*"], "Resource": "*"}],
}
DOC_BREAK_GLASS = {  # "*" on "*" (Resource as a list), capped by a permissions boundary
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["*"]}],
}
DOC_S3_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "S3Only", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
DOC_ADMIN_NOTES = {  # named like admin, grants one read
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::admin-notes/*"}],
}
DOC_IAM_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
}
DOC_CODECOMMIT_PUSH = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["codecommit:GitPull", "codecommit:GitPush"],
                   "Resource": "arn:aws:codecommit:us-east-1:123456789012:app"}],
}
DOC_BEDROCK_INVOKE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow",
                   "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
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
    "S3OnlyBoundary": ("/boundaries/",       "Permissions boundary: S3 only",   DOC_S3_ONLY),
    "IamFullControl": ("/security/",         "Full control of IAM",             DOC_IAM_ALL),
}

# AWS managed policies the seed attaches: name -> (path, description, document, create date).
# moto loads AWS's ~1,500 only with MOTO_IAM_LOAD_MANAGED_POLICIES=true (~1 s more per start);
# the seed registers just these in the backend, as AWS publishes them (policy version v1).
AWS_MANAGED_POLICIES = {
    "AdministratorAccess": ("/", "Provides full access to AWS services and resources.", DOC_ADMIN_ALL,
                            "2015-02-06T18:39:46+00:00"),
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
    ("PlatformAdmins", "/platform/",         ["AdministratorAccess"],   {}),  # AWS managed
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
    ("ivan",                        "/ops/",                 [],                        (A,),   None,    0,   [("team", "ops")],                                            [],                                {"ops-helper": DOC_OPS_HELPER}),
    ("judy",                        "/platform/",            ["PlatformAdmins"],        (),     "set",   1,   [("team", "platform")],                                       [],                                {}),
    ("trent",                       "/ops/",                 [],                        (A,),   None,    0,   [("purpose", "break-glass")],                                 [],                                {"break-glass": DOC_BREAK_GLASS}),
    ("victor",                      "/",                     [],                        (),     "set",   0,   [],                                                           [],                                {"admin-notes": DOC_ADMIN_NOTES}),
    ("oscar",                       "/security/",            [],                        (A,),   None,    0,   [],                                                           ["IamFullControl"],                {}),
    ("walter",                      "/engineering/",         [],                        (),     "set",   0,   [("team", "backend")],                                        [],                                {"codecommit-push": DOC_CODECOMMIT_PUSH}),
    ("BedrockAPIKey-7k2p",          "/",                     [],                        (),     None,    0,   [],                                                           [],                                {"bedrock-invoke": DOC_BEDROCK_INVOKE}),
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

# Permissions boundaries (customer managed policy names) of users: PutUserPermissionsBoundary.
PERMISSIONS_BOUNDARIES = {"trent": "S3OnlyBoundary"}

# Service-specific credentials (CreateServiceSpecificCredential, patched in below), per user, in
# creation order: (service name, status, CredentialAgeDays or None = never expires). Git
# credentials and Keyspaces passwords have a ServiceUserName; Bedrock/CloudWatch Logs API keys a
# ServiceCredentialAlias and, when created with an age, an ExpirationDate.
SERVICE_CREDENTIALS = {
    "walter": [("codecommit.amazonaws.com", "Active", None),
               ("cassandra.amazonaws.com", "Inactive", None)],
    "BedrockAPIKey-7k2p": [("bedrock.amazonaws.com", "Active", 30)],
}
SERVICE_CREDENTIAL_SERVICES = ("bedrock.amazonaws.com", "cassandra.amazonaws.com",
                               "codecommit.amazonaws.com", "logs.amazonaws.com")
API_KEY_SERVICES = ("bedrock.amazonaws.com", "logs.amazonaws.com")

# Expected administrator verdicts. The rule (the component's, README "Administrators"): a user is
# an administrator when a policy in effect for it (its inline and attached policies, and those of
# its groups; a managed policy's default version) has an Allow statement whose Action covers every
# IAM action ("*", "*:*", "iam:*": iam:* can grant itself anything) on Resource "*", or it has the
# AWS-managed AdministratorAccess or IAMFullAccess, and no permissions boundary caps it and no
# unconditional Deny of every IAM action applies. A Deny of a few actions (Ops' deny-delete-user)
# does not change the verdict. Users not listed: not administrators.
ADMIN_VERDICTS = {
    # name:            (admin, why)
    "alice":           (True,  "group Admins: managed AdminAll, * on *"),
    "grace":           (True,  "group Admins: managed AdminAll, * on *"),
    "ivan":            (True,  "inline ops-helper, * on * under a harmless name"),
    "judy":            (True,  "group PlatformAdmins: AWS managed AdministratorAccess"),
    ADMIN_PRINCIPAL:   (True,  "managed AdminAll, * on *"),
    "trent":           (False, "inline break-glass is * on *, but boundary S3OnlyBoundary allows s3:* only"),
    "victor":          (False, "inline admin-notes only reads one bucket (named like admin)"),
    "oscar":           (True,  "managed IamFullControl: iam:* on * (it can grant itself anything)"),
    RESTRICTED_PRINCIPAL: (True,  "inline restricted-iam: iam:* on *; its Deny names two actions only"),
}

ACCOUNT_ALIAS = "demo-sandbox"  # CreateAccountAlias: the account's name (ListAccountAliases)

# The root user, which moto does not model: the credential report's <root_account> row and
# GetAccountSummary's AccountMFAEnabled / AccountAccessKeysPresent /
# AccountSigningCertificatesPresent are patched in from here.
ROOT_ACCOUNT = {"created": "2019-03-14T09:26:53+00:00", "mfa_active": True, "access_keys": 0,
                "signing_certificates": 0}

# Actions IAM does not have: real IAM answers them HTTP 400 InvalidAction ("Could not find
# operation X for version 2010-05-08"), and so does the peer (moto: an HTML 500). IAM groups
# cannot be tagged (no TagGroup/ListGroupTags in the IAM API; the taggable IAM resources are
# users, roles, customer managed policies, instance profiles, OIDC/SAML providers, server
# certificates and virtual MFA devices).
INVALID_ACTIONS = ("ListGroupTags",)


# ================================================================================================
# Derived names (deterministic, AWS rules) and the manifest
# ================================================================================================

def user_arn(name, path):
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user{path}{name}"


def group_arn(name, path):
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:group{path}{name}"


def policy_arn(name):
    if name in AWS_MANAGED_POLICIES:
        return f"arn:{PARTITION}:iam::aws:policy{AWS_MANAGED_POLICIES[name][0]}{name}"
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy{POLICIES[name][0]}{name}"


def managed_ref(name):
    return {"name": name, "arn": policy_arn(name), "aws_managed": name in AWS_MANAGED_POLICIES}


def service_user_name(user):
    """IAM's generated ServiceUserName of Git/Keyspaces credentials: `jane-at-123456789012`."""
    return f"{user}-at-{ACCOUNT_ID}"


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
            "managed_policies": [managed_ref(p) for p in managed],
            "inline_policies": {p: policy_text(d) for p, d in inline.items()},
            "ssh_public_keys": len(SSH_KEYS.get(name, [])),
            "signing_certificates": len(SIGNING_CERTS.get(name, [])),
            "principal": principals.get(name),
            "permissions_boundary": (managed_ref(PERMISSIONS_BOUNDARIES[name])
                                     if name in PERMISSIONS_BOUNDARIES else None),
            "service_specific_credentials": [
                {"service_name": svc, "status": status,
                 "service_user_name": None if svc in API_KEY_SERVICES else service_user_name(name),
                 "has_alias": svc in API_KEY_SERVICES,
                 "expires_after_days": age}
                for svc, status, age in SERVICE_CREDENTIALS.get(name, [])],
            "admin": ADMIN_VERDICTS.get(name, (False, None))[0],
            "admin_reason": ADMIN_VERDICTS.get(name, (False, None))[1],
        })
    groups = []
    for name, path, managed, inline in GROUPS:
        groups.append({
            "name": name,
            "path": path,
            "arn": group_arn(name, path),
            "members": [u[0] for u in USERS if name in u[2]],
            "managed_policies": [managed_ref(p) for p in managed],
            "inline_policies": {p: policy_text(d) for p, d in inline.items()},
        })
    policies = [{"name": n, "path": p, "arn": policy_arn(n), "description": d, "document": policy_text(doc)}
                for n, (p, d, doc) in POLICIES.items()]
    aws_policies = [{"name": n, "path": p, "arn": policy_arn(n), "description": d,
                     "document": policy_text(doc), "default_version_id": "v1"}
                    for n, (p, d, doc, _created) in AWS_MANAGED_POLICIES.items()]
    return {
        "account_id": ACCOUNT_ID,
        "account_alias": ACCOUNT_ALIAS,
        "region": REGION,
        "principals": {"admin": ADMIN_PRINCIPAL, "restricted": RESTRICTED_PRINCIPAL},
        "root_account": dict(ROOT_ACCOUNT, arn=f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"),
        "users": users,
        "groups": groups,
        "policies": policies,
        "aws_managed_policies": aws_policies,
        "service_credential_services": list(SERVICE_CREDENTIAL_SERVICES),
        "invalid_actions": list(INVALID_ACTIONS),
        "unassigned_mfa_devices": [mfa_serial(d) for d in UNASSIGNED_MFA_DEVICES],
        "bulk": {"count": users_bulk, "path": BULK_PATH, "name_format": BULK_NAME_FORMAT,
                 "first": BULK_NAME_FORMAT % 1 if users_bulk else None,
                 "last": BULK_NAME_FORMAT % users_bulk if users_bulk else None},
        "users_total": len(USERS) + users_bulk,
        "roles": [{"name": READER_ROLE, "path": READER_ROLE_PATH, "arn": reader_role_arn(),
                   "trust_policy": policy_text(reader_role_trust_policy()),
                   "managed_policies": [managed_ref("IamReadOnly")],
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


# ================================================================================================
# moto 5.2.5 patches: what the connector reads, answered as real IAM answers it
# ================================================================================================
#
# Every patch sits behind moto's own dispatch (IamResponse.call_action): SigV4 is verified and the
# caller's IAM policies are evaluated for "iam:<Action>" first, exactly as for moto's own actions,
# so AccessDenied and signature errors come from moto. State lives on moto's IAM backend objects.

CREDENTIAL_REPORT_COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated")


def _report_time(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def credential_report_csv(backend):
    """The credential report as IAM writes it: the root row first, then one row per user; N/A
    where a credential is absent or unused (moto: no root row, `not_supported` for the last-used
    region and service, the user's creation time as password_last_changed even without one).
    Fields are CSV-quoted when needed: IAM user names and ARNs may contain "," (moto writes them
    bare, which shifts that row's columns)."""
    import csv
    import io
    from datetime import timedelta

    flag = lambda b: "true" if b else "false"  # noqa: E731
    rows = [CREDENTIAL_REPORT_COLUMNS.split(","), [
        "<root_account>", f"arn:{PARTITION}:iam::{backend.account_id}:root", ROOT_ACCOUNT["created"],
        "not_supported", "no_information", "not_supported", "not_supported",
        flag(ROOT_ACCOUNT["mfa_active"]),
        "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "false", "N/A"]]
    policy = backend.account_password_policy
    max_age = getattr(policy, "max_password_age", None) if policy else None
    for user in list(backend.users.values()):
        if user.password:
            changed = getattr(user, "peer_password_changed", None) or user.create_date
            password = ["true",
                        _report_time(user.password_last_used) if user.password_last_used else "no_information",
                        _report_time(changed),
                        _report_time(changed + timedelta(days=max_age)) if max_age else "N/A"]
        else:
            password = ["false", "N/A", "N/A", "N/A"]
        keys = []
        for i in (0, 1):
            key = user.access_keys[i] if len(user.access_keys) > i else None
            if key is None:
                keys += ["false", "N/A", "N/A", "N/A", "N/A"]
                continue
            used = key.last_used
            keys += [flag(key.status == "Active"), _report_time(key.create_date)]
            keys += ([_report_time(used.timestamp), used.region, used.service] if used else ["N/A"] * 3)
        certs = []
        for i in (0, 1):
            held = list(user.signing_certificates.values())
            cert = held[i] if len(held) > i else None
            certs += ([flag(cert.status == "Active"), _report_time(cert.upload_date)] if cert
                      else ["false", "N/A"])
        rows.append([user.name, user.arn, _report_time(user.create_date)] + password
                    + [flag(user.mfa_devices)] + keys + certs)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _credential_id():
    import secrets
    import string

    return "ACCA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))


def patch_moto():
    """Patch moto 5.2.5's IAM where the connector needs real IAM behaviour (idempotent):

    - ListServiceSpecificCredentials (absent from moto; UserName, ServiceName, AllUsers, MaxItems,
      Marker) with Create/Update/DeleteServiceSpecificCredential to seed them;
    - actions absent from the IAM API (ListGroupTags): HTTP 400 InvalidAction, not an HTML 500;
    - user permissions boundaries (Put/DeleteUserPermissionsBoundary, CreateUser's
      PermissionsBoundary): shown by GetUser and GetAccountAuthorizationDetails, not by ListUsers;
    - GetPolicyVersion's Document URL-encoded, as GetUserPolicy's already is;
    - GetAccountAuthorizationDetails' ManagedPolicyDetail with PolicyName and PolicyId;
    - IsTruncated in ListSigningCertificates, ListSSHPublicKeys and ListAccountAliases;
    - CreateLoginProfile honours PasswordResetRequired; GetLoginProfile's CreateDate is the login
      profile's, not the user's;
    - GenerateCredentialReport/GetCredentialReport: IAM's layout (credential_report_csv), a real
      GeneratedTime (moto: always 2015-02-02T20:02:02Z) and a snapshot taken at generation;
    - GetAccountSummary: the root user's MFA, access keys and signing certificates (ROOT_ACCOUNT);
    - an access key's last use (GetAccessKeyLastUsed, the report) is not stamped by a request
      that fails authentication (moto stamps it before checking the signature).
    """
    from datetime import timedelta

    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.serialize import never_return, url_encode
    from moto.core.utils import get_service_model, utcnow
    from moto.iam import models
    from moto.iam.exceptions import IAMException, NotFoundException, ReportNotPresentException, ValidationError
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, "_aws_iam_users_peer", False):
        return
    IamResponse._aws_iam_users_peer = True
    # moto warns on every error code its model lacks (InvalidAction); the answer is intended.
    warnings.filterwarnings("ignore", message=r"Exception\(InvalidAction\)")
    operations = frozenset(get_service_model("iam").operation_names)

    class InvalidAction(IAMException):
        code = "InvalidAction"

    class NotSupportedService(IAMException):
        code = "NotSupportedService"

    class LimitExceeded(IAMException):
        code = "LimitExceeded"

    def error_response(self, error):
        # moto's own path for a ServiceException raised by an action method (call_action).
        status, headers, body = self.serialized(ActionResult(error))
        headers["status"] = status
        status, headers, body = self._transform_response(self.response_headers, (body, headers))
        headers, body = self._enrich_response(headers, body)
        return status, headers, body

    # --- access key last use: only requests that authenticate count --------------------------
    # moto stamps the key's last use (setup_class: mark_account_as_visited) before it checks the
    # signature; IAM records a request that authenticated (allowed or denied), not one with a
    # wrong secret. The stamp's previous value is kept per request thread and put back.
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import AccessDeniedError
    from moto.utilities.utils import get_partition

    visit = threading.local()
    mark_visited = models.mark_account_as_visited

    def mark_visited_undoably(account_id, access_key, service, region):
        key = models.iam_backends[account_id][get_partition(region)].access_keys.get(access_key)
        visit.undo = (key, key.last_used) if key is not None else None
        mark_visited(account_id=account_id, access_key=access_key, service=service, region=region)

    authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate_then_count(self, iam_request_cls, resource="*"):
        undo, visit.undo = getattr(visit, "undo", None), None
        try:
            return authenticate(self, iam_request_cls, resource)
        except AccessDeniedError:
            raise
        except Exception:
            if undo is not None:
                undo[0].last_used = undo[1]
            raise

    models.mark_account_as_visited = mark_visited_undoably  # setup_class imports it per request
    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_then_count

    # --- actions IAM does not have -------------------------------------------------------------
    parse_parameters = IamResponse.parse_parameters

    def parse_known_parameters(self, request):
        if self._get_action() in operations:
            parse_parameters(self, request)
        else:  # no model to parse with: moto would raise before authenticating
            self.params = {}

    call_action = IamResponse.call_action

    def call_action_or_invalid(self):
        try:
            return call_action(self)  # authenticates and authorises first
        except NotImplementedError:
            action = self._get_action()
            if action in operations:
                raise  # in the IAM API but not in moto: keep moto's 500, a visible gap
            return error_response(self, InvalidAction(
                f"Could not find operation {action} for version 2010-05-08"))

    IamResponse.parse_parameters = parse_known_parameters
    IamResponse.call_action = call_action_or_invalid

    # --- service-specific credentials ----------------------------------------------------------
    def credentials(backend):
        if not hasattr(backend, "peer_service_credentials"):
            backend.peer_service_credentials = []
        # A deleted user's credentials go with it.
        backend.peer_service_credentials[:] = [c for c in backend.peer_service_credentials
                                               if c["UserName"] in backend.users]
        return backend.peer_service_credentials

    def metadata(cred, now):
        shown = {k: v for k, v in cred.items() if v is not None}
        if cred.get("ExpirationDate") is not None and cred["ExpirationDate"] <= now:
            shown["Status"] = "Expired"
        return shown

    def caller_user_name(self):
        user = self.backend.get_user_from_access_key_id(self.get_access_key())
        if user is None:
            raise ValidationError("Must specify userName when calling with non-User credentials")
        return user.name

    def check_service(service):
        if service not in SERVICE_CREDENTIAL_SERVICES:
            raise NotSupportedService(f"Service {service} is not supported for service-specific credentials.")

    def list_service_specific_credentials(self):
        user_name = self._get_param("UserName")
        service = self._get_param("ServiceName")
        all_users = bool(self._get_param("AllUsers"))
        marker = self._get_param("Marker")
        max_items = self._get_param("MaxItems")
        if all_users and user_name:
            raise ValidationError("AllUsers cannot be specified together with UserName.")
        if max_items is not None and not 1 <= int(max_items) <= 1000:
            raise ValidationError(f"1 validation error detected: Value '{max_items}' at 'maxItems' failed "
                                  "to satisfy constraint: Member must have value between 1 and 1000")
        if service:
            check_service(service)
        if not all_users:
            user_name = user_name or caller_user_name(self)
            self.backend.get_user(user_name)  # NoSuchEntity for an unknown user
        found = [c for c in credentials(self.backend)
                 if (all_users or c["UserName"] == user_name) and (not service or c["ServiceName"] == service)]
        start = 0
        if marker:
            try:
                start = int(marker.removeprefix("peer-ssc-"))
            except ValueError:
                raise ValidationError("Invalid Marker.") from None
        end = start + int(max_items or 100)
        now = utcnow()
        result = {"ServiceSpecificCredentials": [metadata(c, now) for c in found[start:end]],
                  "IsTruncated": end < len(found)}
        if end < len(found):
            result["Marker"] = f"peer-ssc-{end}"
        return ActionResult(result)

    def create_service_specific_credential(self):
        import secrets

        user_name = self._get_param("UserName")
        service = self._get_param("ServiceName")
        age = self._get_param("CredentialAgeDays")
        user = self.backend.get_user(user_name)
        check_service(service)
        if age is not None and service not in API_KEY_SERVICES:
            raise ValidationError("CredentialAgeDays is only valid for Bedrock and CloudWatch Logs API keys.")
        held = credentials(self.backend)
        if sum(1 for c in held if c["UserName"] == user.name and c["ServiceName"] == service) >= 2:
            raise LimitExceeded("Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")
        now = utcnow()
        api_key = service in API_KEY_SERVICES
        cred = {
            "UserName": user.name,
            "Status": "Active",
            "ServiceUserName": None if api_key else service_user_name(user.name),
            "ServiceCredentialAlias": (f"{user.name}-at-{self.current_account}.v1.{now:%Y%m%d%H%M%S}"
                                       if api_key else None),
            "CreateDate": now,
            "ExpirationDate": now + timedelta(days=int(age)) if age is not None else None,
            "ServiceSpecificCredentialId": _credential_id(),
            "ServiceName": service,
        }
        held.append(cred)
        # The secret half exists only in this response (as in IAM); the peer keeps no copy.
        secret = {"ServiceCredentialSecret" if api_key else "ServicePassword": secrets.token_urlsafe(30)}
        return ActionResult({"ServiceSpecificCredential": dict(metadata(cred, now), **secret)})

    def find_credential(self):
        user = self.backend.get_user(self._get_param("UserName") or caller_user_name(self))
        cred_id = self._get_param("ServiceSpecificCredentialId")
        for cred in credentials(self.backend):
            if cred["UserName"] == user.name and cred["ServiceSpecificCredentialId"] == cred_id:
                return cred
        raise NotFoundException(f"No such credential {cred_id} exists")

    def update_service_specific_credential(self):
        status = self._get_param("Status")
        if status not in ("Active", "Inactive"):
            raise ValidationError(f"1 validation error detected: Value '{status}' at 'status' failed to "
                                  "satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
        find_credential(self)["Status"] = status
        return EmptyResult()

    def delete_service_specific_credential(self):
        cred = find_credential(self)
        credentials(self.backend).remove(cred)
        return EmptyResult()

    IamResponse.list_service_specific_credentials = list_service_specific_credentials
    IamResponse.create_service_specific_credential = create_service_specific_credential
    IamResponse.update_service_specific_credential = update_service_specific_credential
    IamResponse.delete_service_specific_credential = delete_service_specific_credential

    # --- user permissions boundaries -----------------------------------------------------------
    def boundary(user):
        arn = getattr(user, "peer_permissions_boundary_arn", None)
        return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": arn} if arn else None

    models.User.permissions_boundary = property(boundary)

    def set_boundary(self, user_name, arn):
        user = self.backend.get_user(user_name)
        if arn:
            self.backend.get_policy(arn)  # NoSuchEntity for an unknown policy
        user.peer_permissions_boundary_arn = arn or None

    def put_user_permissions_boundary(self):
        set_boundary(self, self._get_param("UserName"), self._get_param("PermissionsBoundary"))
        return EmptyResult()

    def delete_user_permissions_boundary(self):
        set_boundary(self, self._get_param("UserName"), None)
        return EmptyResult()

    create_user = IamResponse.create_user

    def create_user_with_boundary(self):
        arn = self._get_param("PermissionsBoundary")
        if arn:
            self.backend.get_policy(arn)
        result = create_user(self)
        if arn:
            set_boundary(self, self._get_param("UserName"), arn)
        return result

    IamResponse.put_user_permissions_boundary = put_user_permissions_boundary
    IamResponse.delete_user_permissions_boundary = delete_user_permissions_boundary
    IamResponse.create_user = create_user_with_boundary

    transform = dict(IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER)
    transform.update({
        # "IAM resource-listing operations return a subset of the available attributes"
        "ListUsersResponse.Users.User.PermissionsBoundary": never_return,
        "GetPolicyVersionResponse.PolicyVersion.Document": url_encode,
    })
    IamResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER = transform

    # --- GetAccountAuthorizationDetails: ManagedPolicyDetail.PolicyName / PolicyId -------------
    models.Policy.policy_name = property(lambda self: self.name)
    models.Policy.policy_id = property(lambda self: self.id)

    # --- IsTruncated where IAM always sends it ---------------------------------------------------
    def with_is_truncated(method):
        def wrapped(self):
            result = method(self)
            if isinstance(result, ActionResult) and isinstance(result.result, dict):
                result.result.setdefault("IsTruncated", False)
            return result
        return wrapped

    for name in ("list_signing_certificates", "list_ssh_public_keys", "list_account_aliases"):
        setattr(IamResponse, name, with_is_truncated(getattr(IamResponse, name)))

    # --- login profiles --------------------------------------------------------------------------
    backend_create_login_profile = models.IAMBackend.create_login_profile
    backend_update_login_profile = models.IAMBackend.update_login_profile

    def create_login_profile_dated(backend, user_name, password):
        user = backend_create_login_profile(backend, user_name, password)
        user.peer_login_profile_created = user.peer_password_changed = utcnow()
        return user

    def update_login_profile_dated(backend, user_name, password, password_reset_required):
        user = backend_update_login_profile(backend, user_name, password, password_reset_required)
        if password:
            user.peer_password_changed = utcnow()
        return user

    models.IAMBackend.create_login_profile = create_login_profile_dated
    models.IAMBackend.update_login_profile = update_login_profile_dated

    def login_profile(user):
        return {"LoginProfile": {
            "UserName": user.name,
            "CreateDate": getattr(user, "peer_login_profile_created", None) or user.create_date,
            "PasswordResetRequired": bool(user.password_reset_required)}}

    def create_login_profile(self):
        user = self.backend.create_login_profile(self._get_param("UserName"), self._get_param("Password"))
        user.password_reset_required = bool(self._get_param("PasswordResetRequired"))
        return ActionResult(login_profile(user))

    def get_login_profile(self):
        return ActionResult(login_profile(self.backend.get_login_profile(self._get_param("UserName"))))

    IamResponse.create_login_profile = create_login_profile
    IamResponse.get_login_profile = get_login_profile

    # --- credential report -------------------------------------------------------------------------
    def generate_credential_report(self):
        # IAM regenerates at most every 4 hours; the peer snapshots on every call so that a test
        # that changed the account sees its change (State as moto: STARTED, then COMPLETE).
        first = getattr(self.backend, "peer_credential_report", None) is None
        self.backend.peer_credential_report = (utcnow(), credential_report_csv(self.backend))
        self.backend.credential_report = True
        if first:
            return ActionResult({"State": "STARTED",
                                 "Description": "No report exists. Starting a new report generation task"})
        return ActionResult({"State": "COMPLETE"})

    def get_credential_report(self):
        report = getattr(self.backend, "peer_credential_report", None)
        if report is None:
            raise ReportNotPresentException("Credential report not present")
        generated, content = report
        return ActionResult({"Content": content, "ReportFormat": "text/csv",
                             "GeneratedTime": generated.replace(microsecond=0)})

    IamResponse.generate_credential_report = generate_credential_report
    IamResponse.get_credential_report = get_credential_report

    # --- GetAccountSummary: the root user ---------------------------------------------------------
    summary_map = models.AccountSummary.summary_map

    def summary_with_root(summary):
        values = dict(summary_map.fget(summary))
        values.update({
            "AccountMFAEnabled": int(ROOT_ACCOUNT["mfa_active"]),
            "AccountAccessKeysPresent": int(ROOT_ACCOUNT["access_keys"] > 0),
            "AccountSigningCertificatesPresent": int(ROOT_ACCOUNT["signing_certificates"] > 0),
        })
        return values

    models.AccountSummary.summary_map = property(summary_with_root)


def register_aws_managed_policies(backend):
    """Put AWS_MANAGED_POLICIES in moto's backend (unless MOTO_IAM_LOAD_MANAGED_POLICIES loaded
    them), so that attaching them works and GetPolicy/GetPolicyVersion answer."""
    from datetime import datetime

    from moto.iam.models import AWSManagedPolicy

    for name, (path, description, doc, created) in AWS_MANAGED_POLICIES.items():
        if policy_arn(name) in backend.managed_policies:
            continue
        policy = AWSManagedPolicy.from_data(name, backend.account_id, REGION, {
            "DefaultVersionId": "v1", "Path": path, "Document": doc,
            "CreateDate": created, "UpdateDate": created})
        policy.description = description
        policy.create_date = policy.update_date = datetime.fromisoformat(created).replace(tzinfo=None)
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy


class MotoPeer:
    def __init__(self, port, verbose):
        import logging

        import moto

        if moto.__version__ != "5.2.5":
            log(f"warning: moto {moto.__version__} (tested with 5.2.5, see requirements.txt)")
        patch_moto()
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
    from moto.iam.models import iam_backends  # the server runs in this process

    backend = iam_backends[ACCOUNT_ID][PARTITION]
    iam = iam_client(endpoint)
    iam.create_account_alias(AccountAlias=ACCOUNT_ALIAS)
    register_aws_managed_policies(backend)
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
        if console is not None:  # PasswordResetRequired: honoured since patch_moto
            iam.create_login_profile(UserName=name, Password=f"Seed-{i:02d}-Passw0rd!",
                                     PasswordResetRequired=(console == "reset"))
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
        if name in PERMISSIONS_BOUNDARIES:
            iam.put_user_permissions_boundary(UserName=name,
                                              PermissionsBoundary=policy_arn(PERMISSIONS_BOUNDARIES[name]))
        for service, status, age in SERVICE_CREDENTIALS.get(name, []):
            kw = {"UserName": name, "ServiceName": service}
            if age is not None:
                kw["CredentialAgeDays"] = age
            # The response's password/secret is dropped with it, never logged.
            cred = iam.create_service_specific_credential(**kw)["ServiceSpecificCredential"]
            if status != "Active":
                iam.update_service_specific_credential(
                    UserName=name, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"], Status=status)
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
        # Plain users only, created directly in the in-process moto backend: ~1000x faster than
        # one CreateUser round trip each (~4.5 ms), same stored result.
        for n in range(1, users_bulk + 1):
            backend.create_user(REGION, BULK_NAME_FORMAT % n, BULK_PATH)

    count = len(iam.list_users()["Users"])  # moto never paginates ListUsers
    expected = len(USERS) + users_bulk
    if count != expected:
        raise RuntimeError(f"seeded {count} users, expected {expected}")
    return secrets, count


# ================================================================================================
# Organization mode (serve --organization): member accounts, the member role, AssumeRole checks
# ================================================================================================

ORG_MEMBER_ROLE = "aws-iam-users-reader"
ORG_EXTERNAL_ID = "aws-iam-users-org-test-3f1c"
# Member accounts: name, whether it holds the member role, alias, users (name, path, extras:
# "console" = a password, "key" = an access key, a group name = member of that group).
ORGANIZATION = [
    ("dev", True, "org-dev", [("dev-alice", "/", ["console"]), ("dev-bob", "/ci/", ["key"])]),
    ("prod", True, "org-prod", [("prod-carol", "/", ["console", "prod-ops"]),
                                ("prod-dan", "/", ["key", "prod-ops"]),
                                ("prod-erin", "/", [])]),
    ("sandbox", False, "org-sandbox", [("sandbox-frank", "/", ["console"])]),
]
ORG_CLOSED_ACCOUNT = "retired"
DOC_MEMBER_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Resource": "*",
                   "Action": ["iam:Get*", "iam:List*", "iam:GenerateCredentialReport",
                              "sts:GetCallerIdentity"]}],
}


def member_role_trust_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"},
                       "Action": "sts:AssumeRole",
                       "Condition": {"StringEquals": {"sts:ExternalId": ORG_EXTERNAL_ID}}}],
    }


def create_member_role(iam):
    iam.create_role(RoleName=ORG_MEMBER_ROLE, AssumeRolePolicyDocument=policy_text(member_role_trust_policy()))
    iam.put_role_policy(RoleName=ORG_MEMBER_ROLE, PolicyName="iam-read",
                        PolicyDocument=policy_text(DOC_MEMBER_ROLE))


def seed_organization(endpoint):
    """Make the seeded account an organization's management account with ORGANIZATION's members
    (auth must be off). Returns the "organization" entry of the JSON line."""
    import boto3

    orgs = boto3.client("organizations", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")
    orgs.create_organization(FeatureSet="ALL")
    create_member_role(iam_client(endpoint))
    sts = sts_client(endpoint, "testing", "testing")
    management_users = [u["Arn"] for u in iam_client(endpoint).list_users()["Users"]]
    accounts = [{"id": ACCOUNT_ID, "name": "master", "state": "ACTIVE", "member_role": True,
                 "alias": ACCOUNT_ALIAS, "users": sorted(management_users)}]
    for name, with_role, alias, users in ORGANIZATION + [(ORG_CLOSED_ACCOUNT, True, None, [])]:
        status = orgs.create_account(AccountName=name, Email=f"{name}@org.example")["CreateAccountStatus"]
        account_id = status["AccountId"]
        # moto lets any role be assumed while checks are off: the way into the new account.
        creds = sts.assume_role(RoleArn=f"arn:{PARTITION}:iam::{account_id}:role/seed",
                                RoleSessionName="peer-seed")["Credentials"]
        iam = iam_client(endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        if alias:
            iam.create_account_alias(AccountAlias=alias)
        if with_role:
            create_member_role(iam)
        arns = []
        for i, (user, path, extras) in enumerate(users):
            arns.append(iam.create_user(UserName=user, Path=path)["User"]["Arn"])
            for extra in extras:
                if extra == "console":
                    iam.create_login_profile(UserName=user, Password=f"Org-{i:02d}-Passw0rd!")
                elif extra == "key":
                    iam.create_access_key(UserName=user)  # the secret is dropped with the answer
                else:
                    try:
                        iam.create_group(GroupName=extra)
                    except iam.exceptions.EntityAlreadyExistsException:
                        pass
                    iam.add_user_to_group(GroupName=extra, UserName=user)
        if name == ORG_CLOSED_ACCOUNT:
            orgs.close_account(AccountId=account_id)
        accounts.append({"id": account_id, "name": name,
                         "state": "SUSPENDED" if name == ORG_CLOSED_ACCOUNT else "ACTIVE",
                         "member_role": with_role, "alias": alias, "users": sorted(arns)})
    return {"management_account": ACCOUNT_ID, "member_role": ORG_MEMBER_ROLE,
            "external_id": ORG_EXTERNAL_ID, "accounts": accounts}


def patch_assume_role():
    """STS AssumeRole as AWS answers it (moto 5.2.5 assumes any ARN, existing or not, whoever
    asks): AccessDenied (HTTP 403) unless the role exists in its account and its trust policy has
    an Allow of sts:AssumeRole for the caller's account root or the caller's ARN, whose
    StringEquals on sts:ExternalId, if any, the request's ExternalId meets."""
    from xml.sax.saxutils import escape

    from moto.iam.access_control import IAMRequest
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.sts.responses import TokenResponse

    assume_role = TokenResponse.assume_role
    if getattr(TokenResponse, "_aws_iam_users_peer", False):
        return
    TokenResponse._aws_iam_users_peer = True

    def listed(value):
        return value if isinstance(value, list) else [value]

    def trusted(role, caller_account, caller_arn, external_id):
        doc = role.assume_role_policy_document
        doc = json.loads(doc) if isinstance(doc, str) else doc
        for statement in listed(doc.get("Statement", [])):
            principals = listed((statement.get("Principal") or {}).get("AWS", []))
            if statement.get("Effect") != "Allow" or "sts:AssumeRole" not in listed(statement.get("Action")):
                continue
            if not {f"arn:{PARTITION}:iam::{caller_account}:root", caller_arn} & set(principals):
                continue
            wanted = (statement.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
            if wanted is None or external_id in listed(wanted):
                return True
        return False

    def checked_assume_role(self):
        role_arn = self._get_param("RoleArn") or ""
        parts = role_arn.split(":", 5)
        _, caller_arn, caller_account = sts_backends[self.current_account][self.partition] \
            .get_caller_identity(self.get_access_key(), self.region)
        role = None
        if len(parts) == 6 and parts[5].startswith("role/"):
            try:
                role = iam_backends[parts[4]][self.partition].get_role_by_arn(role_arn)
            except Exception:  # noqa: BLE001 - moto raises its own NotFound; any miss is a denial
                role = None
        if role is None or not trusted(role, caller_account, caller_arn, self._get_param("ExternalId")):
            message = f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                    f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
                    "</Error><RequestId>peer-assume-role-denied</RequestId></ErrorResponse>")
            return body, {"status": 403, "Content-Type": "text/xml"}
        return assume_role(self)

    TokenResponse.assume_role = checked_assume_role
    # The trust policy is checked above, for every account alike. moto's own check (auth mode)
    # covers roles of the caller's account only, and matches neither an account-root principal
    # nor a user with a path; the caller's identity policy is still evaluated by moto.
    IAMRequest._is_assuming_role_operation = lambda self, resource_arn: False


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
        organization = seed_organization(peer.endpoint) if getattr(args, "organization", False) else None
        if organization is not None:
            patch_assume_role()
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
    if organization is not None:
        info["organization"] = organization
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
    p.add_argument("--organization", action="store_true",
                   help="an AWS Organization: member accounts with their users and the member role")
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
