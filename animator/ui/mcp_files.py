"""Local files for MCP tools, by path, from the folders the person who started the server
allowed (`python app.py --mcp --allow-folder DIR`), and from nowhere else.

Gradio's MCP server takes a file argument as base64 `data:` text or an http(s) URL, which
it downloads with a check that refuses local addresses, so a portrait on the machine that
runs both the agent and the server cannot be named at all. `allow_local_files` lets that
MCP server also take an absolute path (or a `file://` URL) of a regular file inside one of
the allowed folders, links resolved first, so that neither `..` nor a symlink reaches a
file outside them; any other path is refused with a message saying what is accepted.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

ACCEPTED = ("pass the file as base64 data (\"data:image/jpeg;base64,...\") or as an http(s) "
            "URL")


def allowed_folders(folders) -> list[Path]:
    """The folders as absolute, resolved paths; a folder that does not exist is refused."""
    out = []
    for folder in folders:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise ValueError(f"--allow-folder {folder}: no such folder.")
        out.append(path.resolve())
    return out


def local_file(text: str, folders: list[Path]) -> Path | None:
    """The allowed file that `text` names, None when `text` is data or a web URL (Gradio's
    own), else a ValueError that says why the path is refused and what is accepted."""
    if text.startswith(("http://", "https://")) and _local_host(urlparse(text).hostname):
        raise ValueError(f"This server does not download from local addresses ({text!r}): "
                         f"{ACCEPTED} on the internet, or start it with --allow-folder DIR "
                         "and pass the path of a file inside DIR.")
    if text.startswith(("data:", "http://", "https://")):
        return None
    if text.startswith("file://"):
        text = unquote(urlparse(text).path)
    if not folders:
        raise ValueError(f"This server takes no file paths ({text!r}): {ACCEPTED}, or start "
                         "it with --allow-folder DIR to pass files inside DIR by path.")
    path = Path(text)
    if not path.is_absolute():
        raise ValueError(f"{text!r} is not an absolute path: give the full path of a file "
                         f"inside {_names(folders)}, or {ACCEPTED}.")
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ValueError(f"No file {text!r} on the server: {ACCEPTED}, or give the path of "
                         f"a file inside {_names(folders)}.") from None
    if not any(real.is_relative_to(folder) for folder in folders) or not real.is_file():
        raise ValueError(f"{text!r} is not a file inside the folders this server was started "
                         f"to share ({_names(folders)}): move it there, or {ACCEPTED}.")
    return real


def _local_host(host: str | None) -> bool:
    """Whether a URL's host is this machine or its network (Gradio refuses to fetch those,
    with a message of its own that says nothing of what to do)."""
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local \
        or address.is_unspecified


def _names(folders: list[Path]) -> str:
    return ", ".join(map(str, folders))


def allow_local_files(demo, folders: list[Path]) -> None:
    """Have the launched `demo`'s MCP server (if any) read file arguments with
    `local_file` first; call it right after `launch`, which creates that server."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None:
        return
    from gradio_client import handle_file

    convert = server.convert_strings_to_filedata

    def with_paths(value, filedata_positions):
        def walk(node, path):
            if isinstance(node, dict):
                return {k: walk(v, [*path, k]) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, [*path, i]) for i, v in enumerate(node)]
            if isinstance(node, str) and path in filedata_positions:
                found = local_file(node, folders)
                if found is not None:
                    return handle_file(os.fspath(found))
            return node

        return convert(walk(value, []), filedata_positions)

    server.convert_strings_to_filedata = with_paths
