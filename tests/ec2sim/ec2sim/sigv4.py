"""AWS Signature Version 4 verification, written from the specification.

Nothing here imports botocore: the server must judge signatures independently of the
clients it tests.  `verify()` raises `SigError(code, message, status)` with the error EC2
answers; on success it returns a `SignedRequest` describing who signed and how.

Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
(and AWS's SigV4 test suite, which tests/ec2sim/test_sigv4.py replays against this code).
"""
import calendar
import hashlib
import hmac
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 300  # seconds; "5 minutes" in AWS's documentation
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


class SigError(Exception):
    def __init__(self, code, message, status=403):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class SignedRequest:
    access_key_id: str
    date: str                 # yyyymmdd of the credential scope
    region: str
    service: str
    signed_headers: list
    signature: str
    session_token: str = None
    timestamp: float = 0.0    # epoch seconds of X-Amz-Date / Date
    presigned: bool = False
    string_to_sign: str = ""
    canonical_request: str = ""
    extra: dict = field(default_factory=dict)


def uri_encode(value, encode_slash=True):
    """RFC 3986 percent-encoding of everything but unreserved characters (SigV4 rule)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    out = []
    for b in value:
        if b in _UNRESERVED or (b == 0x2F and not encode_slash):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def normalize_path(path):
    """Remove dot segments and empty segments (RFC 3986 5.2.4); keep a trailing slash."""
    if not path:
        return "/"
    segments = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segments:
                segments.pop()
            continue
        segments.append(seg)
    out = "/" + "/".join(segments)
    if path.endswith("/") and out != "/":
        out += "/"
    return out


def canonical_uri_candidates(raw_path):
    """The canonical URI(s) a client may have signed for `raw_path` (as on the wire).

    AWS's test suite encodes the decoded path once; botocore and most SDKs encode the
    already-encoded wire path once more ("double encoding", the rule for every service
    but S3).  For EC2 the path is "/" and both agree; we accept either.
    """
    decoded = urllib.parse.unquote(raw_path)
    single = uri_encode(normalize_path(decoded), encode_slash=False)
    double = uri_encode(normalize_path(raw_path), encode_slash=False)
    return [single] if single == double else [single, double]


def parse_query(raw_query):
    """Raw query string → list of (name, value) decoded with %-decoding (no '+' rule)."""
    pairs = []
    if not raw_query:
        return pairs
    for part in raw_query.split("&"):
        if part == "":
            continue
        if "=" in part:
            k, v = part.split("=", 1)
        else:
            k, v = part, ""
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return pairs


def canonical_query(pairs, exclude=()):
    enc = sorted((uri_encode(k), uri_encode(v)) for k, v in pairs if k not in exclude)
    return "&".join("%s=%s" % kv for kv in enc)


def _collapse(value):
    return re.sub(r"\s+", " ", value.strip())


def canonical_headers(headers, signed):
    """headers: list of (name, value) in wire order; signed: lowercase names, sorted."""
    values = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(_collapse(value))
    lines = []
    for name in signed:
        if name not in values:
            raise SigError("IncompleteSignature",
                           "The request signature includes header '%s' which is not in the "
                           "request." % name, 400)
        lines.append("%s:%s\n" % (name, ",".join(values[name])))
    return "".join(lines)


def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


def build_canonical_request(method, canonical_uri, query, headers_block, signed, payload_hash):
    return "\n".join([method, canonical_uri, query, headers_block, ";".join(signed),
                      payload_hash])


def string_to_sign(amz_date, scope, canonical_request):
    return "\n".join([ALGORITHM, amz_date, scope,
                      hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])


def sign(secret, date, region, service, sts):
    return hmac.new(signing_key(secret, date, region, service), sts.encode("utf-8"),
                    hashlib.sha256).hexdigest()


_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


def _parse_auth_header(value):
    m = _AUTH_RE.match(value.strip())
    if not m:
        if value.strip().startswith("AWS "):
            raise SigError("AuthFailure", "AWS was not able to validate the provided access "
                           "credentials", 401)
        raise SigError("IncompleteSignature",
                       "Authorization header requires existence of either a 'X-Amz-Date' or a "
                       "'Date' header. Authorization=%s" % value.split(" ")[0], 400)
    parts = {}
    for item in m.group(1).split(","):
        item = item.strip()
        if "=" not in item:
            raise SigError("IncompleteSignature",
                           "Authorization header requires 'Credential', 'Signature' and "
                           "'SignedHeaders' parameters.", 400)
        k, v = item.split("=", 1)
        parts[k.strip()] = v.strip()
    for need in ("Credential", "SignedHeaders", "Signature"):
        if need not in parts:
            raise SigError("IncompleteSignature",
                           "Authorization header requires '%s' parameter." % need, 400)
    return parts["Credential"], parts["SignedHeaders"], parts["Signature"]


def parse_amz_date(value):
    try:
        return calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ"))
    except (ValueError, TypeError):
        return None


def amz_date(ts):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))


def verify(method, raw_path, raw_query, headers, body, lookup_secret, region, service,
           now=None, max_skew=MAX_SKEW, check_scope=True):
    """Verify a SigV4-signed request.

    headers: list of (name, value); body: bytes; lookup_secret(access_key_id) → secret or
    None (unknown key).  `now`: server clock (epoch seconds).  Returns SignedRequest.
    """
    if now is None:
        now = time.time()
    hdr = {}
    for name, value in headers:
        hdr.setdefault(name.lower(), value)
    query_pairs = parse_query(raw_query)
    qdict = {}
    for k, v in query_pairs:
        qdict.setdefault(k, v)

    presigned = "authorization" not in hdr and ("X-Amz-Algorithm" in qdict
                                                or "X-Amz-Signature" in qdict)
    if "authorization" in hdr:
        credential, signed_str, signature = _parse_auth_header(hdr["authorization"])
        date_value = hdr.get("x-amz-date")
        if date_value is not None:
            ts = parse_amz_date(date_value)
            if ts is None:
                raise SigError("IncompleteSignature", "Invalid X-Amz-Date value: %s"
                               % date_value, 400)
        elif "date" in hdr:
            try:
                ts = parsedate_to_datetime(hdr["date"]).timestamp()
            except (TypeError, ValueError):
                raise SigError("IncompleteSignature", "Invalid Date header", 400)
            date_value = amz_date(ts)
        else:
            raise SigError("IncompleteSignature",
                           "Authorization header requires existence of either a 'X-Amz-Date' "
                           "or a 'Date' header.", 400)
        token = hdr.get("x-amz-security-token")
        exclude = ()
        expires = None
    elif presigned:
        if qdict.get("X-Amz-Algorithm") != ALGORITHM:
            raise SigError("IncompleteSignature", "Unsupported or missing X-Amz-Algorithm", 400)
        for need in ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature",
                     "X-Amz-Date"):
            if need not in qdict:
                raise SigError("IncompleteSignature", "Query-string authentication requires "
                               "the %s parameter." % need, 400)
        credential = qdict["X-Amz-Credential"]
        signed_str = qdict["X-Amz-SignedHeaders"]
        signature = qdict["X-Amz-Signature"]
        date_value = qdict["X-Amz-Date"]
        ts = parse_amz_date(date_value)
        if ts is None:
            raise SigError("IncompleteSignature", "Invalid X-Amz-Date value: %s" % date_value,
                           400)
        token = qdict.get("X-Amz-Security-Token")
        exclude = ("X-Amz-Signature",)
        try:
            expires = int(qdict.get("X-Amz-Expires", "900"))
        except ValueError:
            raise SigError("AuthFailure", "X-Amz-Expires must be a number", 401)
    else:
        raise SigError("MissingAuthenticationToken", "Request is missing Authentication Token",
                       401)

    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SigError("IncompleteSignature",
                       "Credential should have exactly 5 parts (access key/date/region/"
                       "service/aws4_request), got '%s'" % credential, 400)
    akid, sdate, sregion, sservice, _ = scope
    signed = signed_str.split(";") if signed_str else []
    if signed != sorted(signed) or any(h != h.lower() for h in signed):
        raise SigError("SignatureDoesNotMatch", "SignedHeaders must be lowercase and sorted.",
                       403)
    if "host" not in signed:
        raise SigError("SignatureDoesNotMatch", "'Host' or ':authority' must be a "
                       "'SignedHeader' in the AWS Authorization.", 403)
    if not presigned:
        date_header = "x-amz-date" if "x-amz-date" in hdr else "date"
        if date_header not in signed:
            raise SigError("SignatureDoesNotMatch", "The request date header (%s) must be "
                           "signed." % date_header, 403)
    if sdate != date_value[:8]:
        raise SigError("SignatureDoesNotMatch",
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                       "version of date from HTTP: '%s' != '%s', from '%s'."
                       % (sdate, date_value[:8], date_value), 403)
    if check_scope:
        if sservice != service:
            raise SigError("AuthFailure", "Credential should be scoped to correct service: "
                           "'%s'." % service, 401)
        if sregion != region:
            raise SigError("AuthFailure", "Credential should be scoped to a valid region, "
                           "not '%s'." % sregion, 401)

    if expires is not None:
        # a presigned URL is good for X-Amz-Expires seconds from its date
        if now > ts + expires:
            raise SigError("RequestExpired", "Request has expired.", 400)
    elif ts < now - max_skew:
        raise SigError("RequestExpired",
                       "Request has expired. Timestamp date is %s, server time is %s"
                       % (date_value, amz_date(now)), 400)
    if ts > now + max_skew:
        raise SigError("RequestExpired",
                       "Request is not yet valid (signature not yet current): %s is later "
                       "than %s + 5 min." % (date_value, amz_date(now)), 400)

    secret = lookup_secret(akid)
    if secret is None:
        raise SigError("AuthFailure",
                       "AWS was not able to validate the provided access credentials", 401)

    cq = canonical_query(query_pairs, exclude)
    hblock = canonical_headers(headers, signed)
    payload_hash = hashlib.sha256(body or b"").hexdigest()
    for curi in canonical_uri_candidates(raw_path):
        creq = build_canonical_request(method, curi, cq, hblock, signed, payload_hash)
        sts = string_to_sign(date_value, "/".join(scope[1:]), creq)
        expected = sign(secret, sdate, sregion, sservice, sts)
        if hmac.compare_digest(expected, signature.lower()):
            return SignedRequest(akid, sdate, sregion, sservice, signed, signature, token, ts,
                                 presigned, sts, creq)
    raise SigError("SignatureDoesNotMatch",
                   "The request signature we calculated does not match the signature you "
                   "provided. Check your AWS Secret Access Key and signing method. Consult the "
                   "service documentation for details.", 403)
