"""Weight downloads from the Hugging Face Hub, with one clear message per way they fail.

Everything goes through `huggingface_hub.snapshot_download`, so files land in the standard
HF cache (shared with diffusers/transformers, resumable, symlinked blobs) or in a chosen
folder, and only the files a preset names are fetched. The hub's own tqdm bars are kept so
that `gr.Progress(track_tqdm=True)` follows them; a plain callback gets the same progress.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from huggingface_hub import (
    constants,
    get_cached_repo_tree,
    snapshot_download,
    try_to_load_from_cache,
)
from huggingface_hub.errors import (
    CachedRepoTreeNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    IncompleteSnapshotError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import filter_repo_objects
from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

from animator.errors import InputError

ProgressCallback = Callable[[float, str], object]

# The snapshot's bar counting bytes written to disk, summed over all files.
_BYTES_BAR = "huggingface_hub.snapshot_download"
_OFFLINE_FIX = ("Run `python -m animator download` on a machine with internet access and copy "
                "its cache here, or pass --weights-dir with a folder that holds them.")
_LOGIN = "set HF_TOKEN, or run `hf auth login`"


@dataclass
class RemoteFiles:
    """What a preset needs from one repository."""

    repo_id: str
    filenames: list[str]  # exact paths or glob patterns, relative to the repo root
    revision: str | None = None  # branch, tag or commit; None = the default branch
    gated: bool = False  # needs an accepted license and a token
    license_url: str | None = None  # where to accept it; default: the repo page

    @property
    def page(self) -> str:
        return self.license_url or f"https://huggingface.co/{self.repo_id}"


def _relative_files(folder: Path) -> list[str]:
    # is_file() follows the cache's links, so a link to a missing blob does not count
    paths = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return [p for p in paths if not p.startswith(".cache/")]  # local_dir's hub metadata


def missing_files(files: RemoteFiles, folder: str | Path) -> list[str]:
    """The names or patterns of `files` that nothing in `folder` satisfies."""
    present = _relative_files(Path(folder))
    return [pattern for pattern in files.filenames
            if not any(filter_repo_objects(present, allow_patterns=[pattern]))]


def _progress_bar(files, cache_dir, local_dir, callback: ProgressCallback,
                  desc: str) -> type[hf_tqdm]:
    """The hub's bar class, also telling `callback` the fraction of the wanted bytes on disk.

    The hub's byte bar grows its total as each file starts, so the fraction is taken against
    the sizes in the repo listing instead (cached by the hub before the first byte arrives).
    """
    lock = threading.Lock()
    count = {}

    class Bar(hf_tqdm):
        def __init__(self, *args, **kwargs):
            self._report = kwargs.get("name") == _BYTES_BAR
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            shown = super().update(n)
            if self._report:
                with lock:
                    if not count:
                        count["total"], missing = _sizes(files, cache_dir, local_dir)
                        count["done"] = count["total"] - missing
                    count["done"] += n or 0
                    fraction = count["done"] / count["total"] if count["total"] else 0.0
                callback(min(fraction, 1.0), desc)
            return shown

    return Bar


def fetch(files: RemoteFiles, *, cache_dir: str | Path | None = None,
          local_dir: str | Path | None = None, allow_download: bool = True,
          progress: ProgressCallback | None = None) -> Path:
    """Download (or find in the cache) the files of `files`; return the folder holding them.

    `local_dir` puts plain files there instead of the HF cache. With `allow_download=False`
    or `HF_HUB_OFFLINE=1` only what is already on disk is used. `progress(fraction, desc)`
    is called as bytes arrive. Every failure is one `InputError` naming the fix.
    """
    offline = not allow_download or constants.is_offline_mode()
    desc = f"Downloading {files.repo_id}"
    try:
        folder = Path(snapshot_download(
            files.repo_id, revision=files.revision, allow_patterns=files.filenames,
            cache_dir=cache_dir, local_dir=local_dir, local_files_only=offline,
            tqdm_class=None if progress is None
            else _progress_bar(files, cache_dir, local_dir, progress, desc)))
    except (OSError, httpx2.TransportError) as error:
        explained = _explain(error, files, offline, cache_dir, local_dir)
        if explained is None:
            raise
        raise explained from error
    missing = missing_files(files, folder)
    if missing:
        raise _incomplete(files, missing, offline, cache_dir, local_dir)
    if progress is not None:
        progress(1.0, desc)
    return folder


def is_cached(files: RemoteFiles, cache_dir: str | Path | None = None,
              local_dir: str | Path | None = None) -> bool:
    """Whether `fetch` would find everything on disk; never touches the network."""
    try:
        folder = snapshot_download(files.repo_id, revision=files.revision,
                                   allow_patterns=files.filenames, cache_dir=cache_dir,
                                   local_dir=local_dir, local_files_only=True)
    except LocalEntryNotFoundError:
        return False
    return not missing_files(files, folder)


def _where(cache_dir, local_dir) -> str:
    return str(local_dir or cache_dir or constants.HF_HUB_CACHE)


def _listing(files, cache_dir, local_dir) -> dict[str, int] | None:
    """{path: size} of the repo at the wanted revision, as the hub cached it when online."""
    try:
        tree = get_cached_repo_tree(files.repo_id, revision=files.revision, cache_dir=cache_dir,
                                    local_dir=local_dir)
    except CachedRepoTreeNotFoundError:
        return None
    return {f.path: f.size for f in tree}


def _not_cached(files, missing, cache_dir, local_dir) -> InputError:
    why = " (HF_HUB_OFFLINE=1)" if constants.is_offline_mode() else ""
    return InputError(f"The weights from {files.repo_id} are not on this machine (missing "
                      f"{', '.join(missing)} in {_where(cache_dir, local_dir)}) and downloads "
                      f"are off{why}. " + _OFFLINE_FIX)


def _unreachable(files) -> InputError:
    return InputError(f"Cannot reach huggingface.co to download {files.repo_id}: check the "
                      "internet connection (or HTTPS_PROXY) and run again; the finished files "
                      "are kept and a partial one resumes. " + _OFFLINE_FIX)


def _incomplete(files, missing, offline, cache_dir, local_dir) -> InputError:
    """Why a snapshot lacks files: offline, not in the repo, or the hub was not reached."""
    if offline:
        return _not_cached(files, missing, cache_dir, local_dir)
    listing = _listing(files, cache_dir, local_dir)
    if listing is None:  # the hub answered nothing, so it listed nothing
        return _unreachable(files)
    absent = [p for p in missing if not any(filter_repo_objects(list(listing), allow_patterns=[p]))]
    if absent:
        return InputError(f"{files.repo_id} has no file matching {', '.join(absent)}: the "
                          "preset no longer matches the repository. Update animator, or pass "
                          "--weights-dir with a folder that holds the files.")
    return _unreachable(files)


def _sizes(files, cache_dir, local_dir) -> tuple[int, int]:
    """(bytes of the wanted files, bytes of those not on disk yet), from the hub's listing."""
    listing = _listing(files, cache_dir, local_dir) or {}
    names = filter_repo_objects(list(listing), allow_patterns=files.filenames)
    if local_dir is None:
        def on_disk(name):
            return isinstance(try_to_load_from_cache(files.repo_id, name, cache_dir=cache_dir,
                                                     revision=files.revision), str)
    else:
        def on_disk(name):
            return (Path(local_dir) / name).is_file()
    sizes = [(listing[name], on_disk(name)) for name in names]
    return sum(size for size, _ in sizes), sum(size for size, done in sizes if not done)


def _disk_full(files, cache_dir, local_dir) -> InputError:
    need = _sizes(files, cache_dir, local_dir)[1]
    amount = f"{need / 1e9:.1f} GB" if need else "some space"
    bigger = ("use a --weights-dir on a bigger disk" if local_dir is not None
              else "set HF_HOME to a folder on a bigger disk")
    return InputError(f"The disk is full: downloading {files.repo_id} into "
                      f"{_where(cache_dir, local_dir)} needs {amount} more. Free {amount} "
                      f"there, or {bigger}; the finished files are kept.")


def _causes(error: BaseException):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def _explain(error, files, offline, cache_dir, local_dir) -> InputError | None:
    """The `InputError` for a failed download; None when it is not a failure we know."""
    chain = list(_causes(error))
    http = next((e for e in chain if isinstance(e, HfHubHTTPError)), None)
    status = http.response.status_code if http is not None else None
    repo = files.repo_id
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return _disk_full(files, cache_dir, local_dir)
    if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        bigger = "choose another --weights-dir" if local_dir else "set HF_HOME to a writable folder"
        return InputError(f"Cannot write the weights of {repo} into {_where(cache_dir, local_dir)} "
                          f"({error.strerror}): {bigger}.")
    if isinstance(http, GatedRepoError) or (files.gated and status in (401, 403)):
        return InputError(f"{repo} is gated: accept its license at {files.page} while logged "
                          f"in, then give this machine your token ({_LOGIN}).")
    if isinstance(http, RevisionNotFoundError):
        return InputError(f"Revision {files.revision} of {repo} does not exist on huggingface.co: "
                          "the preset no longer matches the repository; update animator.")
    if isinstance(http, RepositoryNotFoundError) or status == 401:
        return InputError(f"The repository {repo} was not found on huggingface.co, or it is "
                          f"private: check its name; for a private one, {_LOGIN}.")
    if status == 403:
        return InputError(f"huggingface.co refused access to {repo} (403): make sure your token "
                          f"may read it ({_LOGIN}); if it is gated, accept its license at "
                          f"{files.page}.")
    if http is not None:
        return InputError(f"huggingface.co answered {status} while downloading {repo}: try "
                          "again later; the finished files are kept.")
    if isinstance(error, LocalEntryNotFoundError) and offline:
        missing = (isinstance(error, IncompleteSnapshotError)
                   and missing_files(files, error.snapshot_path)) or files.filenames
        return _not_cached(files, missing, cache_dir, local_dir)
    if any(isinstance(e, (httpx2.TransportError, LocalEntryNotFoundError)) for e in chain):
        return _unreachable(files)
    return None
