"""Sharing results through an S3 remote (dvc-s3), against an S3-compatible server on 127.0.0.1.

`moto_server` (moto[server]) plays S3. The tiny suite is built in a temporary git repo, pushed
to `s3://<bucket>/grokscope`, cloned afresh and pulled with `grokscope pull`: the same files,
`dvc status` clean and `snakemake -n` empty, as with the default local remote
(tests/test_pipeline.py). Credentials come from the environment only; the endpoint of this
local server goes into `.dvc/config.local`, which git ignores.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from repo_utils import copy_repo, result_files, run

BUCKET = "grokscope-test"
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """An S3-compatible server on 127.0.0.1 that checks credentials, with one bucket.

    moto answers its first three requests unauthenticated (INITIAL_NO_AUTH_ACTION_COUNT):
    they create an IAM user allowed s3:* and its access key. Every later request must be
    signed with that key. Yields (endpoint, credentials as environment variables, client).
    """
    pytest.importorskip("dvc_s3", reason="dvc-s3 is not installed (pip install -e '.[dev]')")
    boto3 = pytest.importorskip("boto3", reason="boto3 is not installed")
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    server = server or shutil.which("moto_server")
    if server is None:
        pytest.skip("moto_server is not installed (pip install -e '.[dev]': moto[server])")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    proc = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        for _ in range(150):
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited ({proc.returncode}); see {log.name}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"moto_server did not listen on {endpoint}; see {log.name}")
        setup = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        iam = boto3.client("iam", aws_access_key_id="setup", aws_secret_access_key="setup", **setup)
        iam.create_user(UserName="grokscope-ci")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="grokscope-ci", PolicyName="s3", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName="grokscope-ci")["AccessKey"]
        creds = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        client = boto3.client(
            "s3",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            **setup,
        )
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, creds, client
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def built(tiny_build, tmp_path_factory, s3) -> Path:
    """A copy of the session's tiny build whose default remote is the S3 bucket."""
    endpoint, creds, _ = s3
    repo = copy_repo(tiny_build, tmp_path_factory.mktemp("s3") / "a")
    # What the README says: the remote in .dvc/config (committed), anything local or secret
    # with --local (.dvc/config.local, git-ignored), credentials from the environment.
    run(f"dvc remote add -d s3 s3://{BUCKET}/grokscope", repo)
    run(f"dvc remote modify --local s3 endpointurl {endpoint}", repo)
    run("git add -A && git commit -qm 'built, S3 remote'", repo)
    return repo


def test_push_to_s3_then_fresh_clone_pulls_identical_results(built: Path, s3, tmp_path):
    endpoint, creds, client = s3
    run("dvc push", built, env=creds)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys and all(k.startswith("grokscope/") for k in keys)

    # Nothing secret is committed: no credentials, not even the local endpoint.
    committed = run("git ls-files -z", built).stdout.split("\0")
    assert ".dvc/config.local" not in committed
    for name in filter(None, committed):
        text = (built / name).read_bytes()
        for value in (creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], endpoint):
            assert value.encode() not in text, f"{value!r} committed in {name}"

    clone = tmp_path / "b"
    run(f"git clone -q {built} {clone}", tmp_path)
    assert "s3" in run("dvc remote default", clone).stdout
    run(f"dvc remote modify --local s3 endpointurl {endpoint}", clone)
    # The server checks credentials, and DVC takes them from the environment: other ones fail.
    wrong = dict(creds, AWS_ACCESS_KEY_ID="AKIANOTAKEY", AWS_SECRET_ACCESS_KEY="wrong")
    assert run("dvc fetch -q", clone, env=wrong, check=False).returncode != 0
    run("grokscope pull", clone, env=creds)

    here, there = result_files(built), result_files(clone)
    assert here.keys() == there.keys() and here
    different = [k for k in here if not filecmp.cmp(here[k], there[k], shallow=False)]
    assert not different
    assert run("dvc status --json", clone).stdout.strip() in ("{}", "")
    assert "Nothing to be done" in run("snakemake -n --cores 1", clone).stdout
