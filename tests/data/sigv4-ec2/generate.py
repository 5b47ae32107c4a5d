#!/usr/bin/python3
"""Generate the EC2-shaped SigV4 vectors in this directory with botocore.

Each case NAME gets NAME.req (the HTTP request as sent, before signing, with
the headers botocore signs: Content-Type, Host, X-Amz-Date and, with a session
token, X-Amz-Security-Token), NAME.creq, NAME.sts, NAME.authz, and NAME.ctx
(access_key/secret_key/region/service/date lines the C test reads).  The
signature is computed by botocore.auth.SigV4Auth.add_auth with its clock
fixed, so the expected values are independent of ec2ha's signer.

Run:  /usr/bin/python3 tests/data/sigv4-ec2/generate.py
The outputs are committed; the C unit test never runs Python.
"""
import datetime
import os
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "eu-west-1"
SERVICE = "ec2"
HOST = "ec2.eu-west-1.amazonaws.com"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCWV1LXdlc3QtMSJHMEUCIQD+EXAMPLE/"
         "tOkEn+with/slash+and+plus==")
WHEN = datetime.datetime(2024, 2, 29, 23, 59, 58)   # UTC, a leap day
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

BODIES = {
    "describe-instances":
        "Action=DescribeInstances&Version=2016-11-15"
        "&Filter.1.Name=tag%3AName&Filter.1.Value.1=node1"
        "&Filter.2.Name=instance-state-name&Filter.2.Value.1=running"
        "&Filter.2.Value.2=stopped&MaxResults=100",
    "stop-instances":
        "Action=StopInstances&Version=2016-11-15"
        "&InstanceId.1=i-0000000000000bbbb&Force=true&SkipOsShutdown=true",
}


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return WHEN


def generate(name, body, token):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    auth = botocore.auth.SigV4Auth(creds, SERVICE, REGION)
    req = AWSRequest(method="POST", url="https://%s/" % HOST, data=body,
                     headers={"Content-Type": CONTENT_TYPE, "Host": HOST})
    with mock.patch.object(botocore.auth.datetime, "datetime", FixedDatetime):
        auth.add_auth(req)
    authz = req.headers["Authorization"]
    # Recompute the intermediate stages on the signed request (minus Authorization),
    # then check they reproduce botocore's own signature.
    del req.headers["Authorization"]
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    sig = auth.signature(sts, req)
    assert authz.endswith("Signature=" + sig), (authz, sig)

    lines = ["POST / HTTP/1.1"]
    for k, v in req.headers.items():
        lines.append("%s:%s" % (k, v))
    req_text = "\n".join(lines) + "\n\n" + body
    files = {
        ".req": req_text,
        ".creq": creq,
        ".sts": sts,
        ".authz": authz,
        ".ctx": "access_key=%s\nsecret_key=%s\nregion=%s\nservice=%s\ndate=%s\n" % (
            ACCESS_KEY, SECRET_KEY, REGION, SERVICE, WHEN.strftime("%Y%m%dT%H%M%SZ")),
    }
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    for ext, text in files.items():
        with open(os.path.join(d, name + ext), "w", encoding="utf-8", newline="") as f:
            f.write(text)


def main():
    for action, body in BODIES.items():
        generate(action, body, None)
        generate(action + "-session-token", body, TOKEN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
