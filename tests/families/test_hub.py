"""animator.families.hub against the real huggingface_hub code, with no network.

A fake Hub answers through an httpx2 MockTransport installed with the hub's own
`set_client_factory`, so every error below is raised by huggingface_hub itself from a real
HTTP status (its `hf_raise_for_status`), and successful downloads go through the real cache
logic. Offline tests use a hand-built cache folder.
"""

from __future__ import annotations

import errno
import hashlib

import httpx2
import pytest
from huggingface_hub import constants, set_client_factory
from huggingface_hub.utils._http import default_client_factory, hf_request_event_hook

import animator.families.hub as hub
from animator.errors import InputError
from animator.families.hub import RemoteFiles, fetch, is_cached

COMMIT = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "unet/config.json": b'{"in_channels": 8}',
    "unet/model.safetensors": bytes(range(256)) * 400,
    "vae/model.safetensors": b"vae" * 100,
}
OFFLINE_FIX = ("Run `python -m animator download` on a machine with internet access and copy "
               "its cache here, or pass --weights-dir with a folder that holds them.")


class FakeHub:
    """Serves FILES for org/repo; `fail` maps a URL path prefix to a Response or exception."""

    def __init__(self, sizes=None):
        self.sizes = {name: len(data) for name, data in FILES.items()} | (sizes or {})
        self.fail = {}
        self.requests = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/api/agent-harnesses":  # the hub's own environment probe
            return httpx2.Response(404)
        self.requests.append(f"{request.method} {path}")
        for prefix, outcome in self.fail.items():
            if path.startswith(prefix):
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
        if path == "/api/models/org/repo/revision/main":
            return httpx2.Response(200, json={"id": "org/repo", "sha": COMMIT})
        if path.startswith(f"/api/models/org/repo/tree/{COMMIT}"):
            return httpx2.Response(200, json=[
                {"type": "file", "path": name, "size": size,
                 "oid": hashlib.sha1(name.encode()).hexdigest()}
                for name, size in self.sizes.items()])
        name = path.removeprefix(f"/org/repo/resolve/{COMMIT}/")
        data = FILES[name]
        headers = {"X-Repo-Commit": COMMIT, "Content-Length": str(len(data)),
                   "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
        return httpx2.Response(200, headers=headers,
                               content=b"" if request.method == "HEAD" else data)


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    fake = FakeHub()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))  # refs go there
    set_client_factory(lambda: httpx2.Client(
        transport=httpx2.MockTransport(fake), follow_redirects=True,
        event_hooks={"request": [hf_request_event_hook]}))
    yield fake
    set_client_factory(default_client_factory)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def build_cache(cache, files: dict[str, bytes]):
    """A valid HF cache entry for org/repo: refs/main, blobs/<etag>, snapshots/<hash>/links."""
    repo = cache / "models--org--repo"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "blobs").mkdir()
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = repo / "snapshots" / COMMIT / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(blob)
    return repo / "snapshots" / COMMIT


def test_downloads_only_the_named_files_with_progress(fake_hub, tmp_path):
    files = RemoteFiles("org/repo", ["unet/*"])
    seen = []
    folder = fetch(files, cache_dir=tmp_path, progress=lambda f, d: seen.append((f, d)))
    assert folder == tmp_path / "models--org--repo" / "snapshots" / COMMIT
    assert (folder / "unet" / "model.safetensors").read_bytes() == FILES["unet/model.safetensors"]
    assert (folder / "unet" / "config.json").is_file() and not (folder / "vae").exists()
    assert not any("vae" in r for r in fake_hub.requests)
    fractions = [f for f, _ in seen]
    assert seen[-1] == (1.0, "Downloading org/repo") and any(0 < f < 1 for f in fractions)
    assert fractions == sorted(fractions)
    assert is_cached(files, cache_dir=tmp_path)
    assert not is_cached(RemoteFiles("org/repo", ["vae/*"]), cache_dir=tmp_path)
    # Cached now: found again with downloads off, without a single request.
    fake_hub.requests.clear()
    assert fetch(files, cache_dir=tmp_path, allow_download=False) == folder
    assert fake_hub.requests == []


def test_progress_counts_what_was_already_cached(fake_hub, tmp_path):
    fetch(RemoteFiles("org/repo", ["unet/model.safetensors"]), cache_dir=tmp_path)
    seen = []
    fetch(RemoteFiles("org/repo", ["unet/*"]), cache_dir=tmp_path,
          progress=lambda f, d: seen.append(f))
    assert len(seen) >= 2 and min(seen) > 0.99  # only the 18-byte config was left to fetch


def test_local_dir_holds_plain_files(fake_hub, tmp_path):
    folder = fetch(RemoteFiles("org/repo", ["vae/model.safetensors"]), local_dir=tmp_path / "w")
    assert folder == (tmp_path / "w").resolve()
    assert (folder / "vae" / "model.safetensors").read_bytes() == FILES["vae/model.safetensors"]
    assert not (folder / "unet").exists()


def test_offline_uses_the_cache(offline, tmp_path):
    snapshot = build_cache(tmp_path, {"unet/config.json": FILES["unet/config.json"]})
    files = RemoteFiles("org/repo", ["unet/config.json"])
    assert fetch(files, cache_dir=tmp_path) == snapshot
    assert is_cached(files, cache_dir=tmp_path)


def test_offline_missing_files_name_the_fix(offline, tmp_path):
    build_cache(tmp_path, {"unet/config.json": FILES["unet/config.json"]})
    files = RemoteFiles("org/repo", ["unet/config.json", "unet/*.safetensors"])
    assert not is_cached(files, cache_dir=tmp_path)
    with pytest.raises(InputError) as info:
        fetch(files, cache_dir=tmp_path)
    assert str(info.value) == (
        f"The weights from org/repo are not on this machine (missing unet/*.safetensors in "
        f"{tmp_path}) and downloads are off (HF_HUB_OFFLINE=1). {OFFLINE_FIX}")
    with pytest.raises(InputError) as info:  # nothing cached for this repo at all
        fetch(RemoteFiles("org/other", ["a.bin", "b/*"]), cache_dir=tmp_path)
    assert str(info.value) == (
        f"The weights from org/other are not on this machine (missing a.bin, b/* in "
        f"{tmp_path}) and downloads are off (HF_HUB_OFFLINE=1). {OFFLINE_FIX}")


def test_interrupted_download_then_offline(fake_hub, tmp_path, monkeypatch):
    fetch(RemoteFiles("org/repo", ["unet/config.json"]), cache_dir=tmp_path)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    files = RemoteFiles("org/repo", ["unet/config.json", "unet/model.safetensors"])
    assert not is_cached(files, cache_dir=tmp_path)
    with pytest.raises(InputError, match=r"\(missing unet/model.safetensors in .*HF_HUB_OFFLINE"):
        fetch(files, cache_dir=tmp_path)


def test_downloads_refused_without_offline_mode(fake_hub, tmp_path):
    with pytest.raises(InputError, match=r"missing unet/config.json in .* downloads are off\. "):
        fetch(RemoteFiles("org/repo", ["unet/config.json"]), cache_dir=tmp_path,
              allow_download=False)
    assert fake_hub.requests == []


GATED = ("org/repo is gated: accept its license at https://huggingface.co/org/repo while "
         "logged in, then give this machine your token (set HF_TOKEN, or run `hf auth login`).")
NOT_FOUND = ("The repository org/repo was not found on huggingface.co, or it is private: check "
             "its name; for a private one, set HF_TOKEN, or run `hf auth login`.")
UNREACHABLE = ("Cannot reach huggingface.co to download org/repo: check the internet connection "
               "(or HTTPS_PROXY) and run again; the finished files are kept and a partial one "
               f"resumes. {OFFLINE_FIX}")


@pytest.mark.parametrize("gated, status, headers, message", [
    (False, 401, {"X-Error-Code": "GatedRepo"}, GATED),
    (False, 403, {"X-Error-Code": "GatedRepo"}, GATED),
    (True, 403, {}, GATED),  # a preset marked gated: any refusal means the license
    (False, 401, {"X-Error-Code": "RepoNotFound"}, NOT_FOUND),
    (False, 404, {"X-Error-Code": "RepoNotFound"}, NOT_FOUND),
    (False, 403, {}, "huggingface.co refused access to org/repo (403): make sure your token may "
                     "read it (set HF_TOKEN, or run `hf auth login`); if it is gated, accept its "
                     "license at https://huggingface.co/org/repo."),
    (False, 404, {"X-Error-Code": "RevisionNotFound"},
     "Revision None of org/repo does not exist on huggingface.co: the preset no longer matches "
     "the repository; update animator."),
    (False, 500, {}, "huggingface.co answered 500 while downloading org/repo: try again later; "
                     "the finished files are kept."),
])
def test_http_errors(fake_hub, tmp_path, gated, status, headers, message):
    fake_hub.fail["/api/models/org/repo"] = httpx2.Response(status, headers=headers)
    with pytest.raises(InputError) as info:
        fetch(RemoteFiles("org/repo", ["unet/*"], gated=gated), cache_dir=tmp_path)
    assert str(info.value) == message


def test_file_missing_from_repo(fake_hub, tmp_path):
    with pytest.raises(InputError) as info:
        fetch(RemoteFiles("org/repo", ["unet/config.json", "image_encoder/*"]),
              cache_dir=tmp_path)
    assert str(info.value) == (
        "org/repo has no file matching image_encoder/*: the preset no longer matches the "
        "repository. Update animator, or pass --weights-dir with a folder that holds the files.")


def test_no_network(fake_hub, tmp_path):
    fake_hub.fail["/"] = httpx2.ConnectError("[Errno -3] Temporary failure in name resolution")
    files = RemoteFiles("org/repo", ["unet/*"])
    with pytest.raises(InputError) as info:
        fetch(files, cache_dir=tmp_path)
    assert str(info.value) == UNREACHABLE
    # A partial earlier download is not mistaken for a complete one.
    build_cache(tmp_path, {"unet/config.json": FILES["unet/config.json"]})
    with pytest.raises(InputError) as info:
        fetch(RemoteFiles("org/repo", ["unet/config.json", "unet/model.safetensors"]),
              cache_dir=tmp_path)
    assert str(info.value) == UNREACHABLE


def test_disk_full(fake_hub, tmp_path, monkeypatch):
    """The disk fills after the first file: the message says how much is still needed."""
    fake_hub.sizes["unet/model.safetensors"] = 3_200_000_000  # only listed, never sent
    real_download = hub.snapshot_download

    def fill_disk(repo_id, **kwargs):
        real_download(repo_id, **kwargs | {"allow_patterns": ["unet/config.json"]})
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(hub, "snapshot_download", fill_disk)
    with pytest.raises(InputError) as info:
        fetch(RemoteFiles("org/repo", ["unet/*"]), cache_dir=tmp_path)
    assert str(info.value) == (
        f"The disk is full: downloading org/repo into {tmp_path} needs 3.2 GB more. Free "
        "3.2 GB there, or set HF_HOME to a folder on a bigger disk; the finished files are "
        "kept.")
    with pytest.raises(InputError, match="needs 3.2 GB more.*use a --weights-dir on a bigger"):
        fetch(RemoteFiles("org/repo", ["unet/*"]), local_dir=tmp_path / "w")


@pytest.mark.parametrize("error", [PermissionError(errno.EACCES, "Permission denied"),
                                   OSError(errno.EIO, "Input/output error")])
def test_other_os_errors(fake_hub, tmp_path, monkeypatch, error):
    def broken(repo_id, **kwargs):
        raise error

    monkeypatch.setattr(hub, "snapshot_download", broken)
    if error.errno == errno.EIO:  # not a user's problem to fix: not hidden behind a message
        with pytest.raises(OSError, match="Input/output"):
            fetch(RemoteFiles("org/repo", ["unet/*"]), cache_dir=tmp_path)
        return
    with pytest.raises(InputError) as info:
        fetch(RemoteFiles("org/repo", ["unet/*"]), cache_dir=tmp_path)
    assert str(info.value) == (f"Cannot write the weights of org/repo into {tmp_path} "
                               "(Permission denied): set HF_HOME to a writable folder.")
