"""boto3 against jcsgw: prints one 'STEP <name>: ok|FAIL <why>' line per operation."""
import hashlib, http.client, os, sys, tempfile, traceback, urllib.parse, urllib.request

import boto3, botocore.config
from boto3.s3.transfer import TransferConfig

endpoint, ak, sk = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=ak, aws_secret_access_key=sk,
                  config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
failed = False


def step(name):
    def wrap(fn):
        global failed
        try:
            fn()
            print(f"STEP {name}: ok", flush=True)
        except Exception as e:  # report and go on: every step is judged
            failed = True
            print(f"STEP {name}: FAIL {e!r}", flush=True)
            traceback.print_exc()
        return fn
    return wrap


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


tmp = tempfile.mkdtemp()
big = os.path.join(tmp, "big.bin")
with open(big, "wb") as f:
    f.write(os.urandom(21 << 20))
s3.create_bucket(Bucket="botobkt")


@step("upload_file/download_file (multipart)")
def _():
    cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4)
    s3.upload_file(big, "botobkt", "data/big.bin", Config=cfg)
    head = s3.head_object(Bucket="botobkt", Key="data/big.bin")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
    out = os.path.join(tmp, "big.out")
    s3.download_file("botobkt", "data/big.bin", out, Config=cfg)
    assert sha(out) == sha(big)


@step("list_objects_v2 paginator (encoding-type=url)")
def _():
    keys = ["list/a b+c.txt", "list/ü/x", "list/plain", "list/sub/one", "list/sub/two", "list/%41"]
    for k in keys:
        s3.put_object(Bucket="botobkt", Key=k, Body=k.encode())
    got = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="botobkt", Prefix="list/", PaginationConfig={"PageSize": 2}):
        got += [o["Key"] for o in page.get("Contents", [])]
    assert got == sorted(keys, key=lambda k: k.encode()), got
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="botobkt", Prefix="list/", Delimiter="/")
    prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["list/sub/", "list/ü/"], prefixes


@step("copy")
def _():
    s3.copy({"Bucket": "botobkt", "Key": "data/big.bin"}, "botobkt", "copy/big.bin")
    out = os.path.join(tmp, "copy.out")
    s3.download_file("botobkt", "copy/big.bin", out)
    assert sha(out) == sha(big)


@step("delete_objects")
def _():
    res = s3.delete_objects(Bucket="botobkt", Delete={"Objects": [{"Key": "list/plain"}, {"Key": "list/%41"}, {"Key": "nope"}]})
    assert sorted(d["Key"] for d in res["Deleted"]) == ["list/%41", "list/plain", "nope"], res
    left = [o["Key"] for o in s3.list_objects_v2(Bucket="botobkt", Prefix="list/").get("Contents", [])]
    assert "list/plain" not in left and "list/%41" not in left


@step("presigned GET and PUT")
def _():
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "botobkt", "Key": "pre/put.txt"}, ExpiresIn=300)
    # A plain PUT with no Content-Type: the signature (SigV2 query, boto3's
    # default for presigning) covers the Content-Type, which was empty.
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.netloc)
    conn.request("PUT", u.path + "?" + u.query, body=b"presigned body")
    resp = conn.getresponse()
    assert resp.status == 200, (resp.status, resp.read())
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "botobkt", "Key": "pre/put.txt"}, ExpiresIn=300)
    assert urllib.request.urlopen(url).read() == b"presigned body"


sys.exit(1 if failed else 0)
