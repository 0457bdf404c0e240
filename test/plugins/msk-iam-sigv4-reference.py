"""botocore's SigV4 Authorization header for a request a stand-in server received.

Reads JSON on stdin: method, url, headers (the signed ones but host, x-amz-date and
x-amz-security-token, which botocore sets itself), body, accessKeyId, secretAccessKey,
sessionToken (optional), region, service, amzDate (the request's X-Amz-Date).
Prints JSON: authorization.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

args = json.load(sys.stdin)
now = datetime.datetime.strptime(args["amzDate"], "%Y%m%dT%H%M%SZ")
botocore.auth.get_current_datetime = lambda *a, **k: now
request = AWSRequest(method=args["method"], url=args["url"], data=args["body"].encode("utf-8"), headers=args["headers"])
credentials = Credentials(args["accessKeyId"], args["secretAccessKey"], args.get("sessionToken"))
botocore.auth.SigV4Auth(credentials, args["service"], args["region"]).add_auth(request)
print(json.dumps({"authorization": request.headers["Authorization"]}))
