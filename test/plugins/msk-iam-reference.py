"""The reference MSK IAM token: aws-msk-iam-sasl-signer-python's own code, at a fixed time.

Reads JSON on stdin: accessKeyId, secretAccessKey, sessionToken (optional), region, time (ISO 8601,
UTC), userAgent (optional: replaces the library's own). Prints JSON: token, expiresAtMs, userAgent.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.credentials import CredentialProvider, Credentials

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as provider

args = json.load(sys.stdin)
now = datetime.datetime.strptime(args["time"], "%Y-%m-%dT%H:%M:%SZ")
botocore.auth.get_current_datetime = lambda *a, **k: now  # the signing time
if args.get("userAgent"):
    provider.__get_user_agent__ = lambda: args["userAgent"]


class Fixed(CredentialProvider):
    def load(self):
        return Credentials(args["accessKeyId"], args["secretAccessKey"], args.get("sessionToken"))


token, expires_at_ms = provider.generate_auth_token_from_credentials_provider(args["region"], Fixed())
print(json.dumps({"token": token, "expiresAtMs": expires_at_ms, "userAgent": provider.__get_user_agent__()}))
