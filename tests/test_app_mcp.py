"""MCP, through the `mcp` package's own client against a real server started as
`python app.py --mcp --allow-folder DIR` starts it: the README's call with base64 data, and
files by path from the allowed folder only."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import app
from animator.ui.mcp_files import allow_local_files, allowed_folders, local_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shared(tmp_path_factory, portrait_path):
    """A folder allowed at launch (a portrait in it, a link in it that leads out of it), a
    folder beside it that is not, and the server's MCP address."""
    shared = tmp_path_factory.mktemp("shared")
    (shared / "me.jpg").write_bytes(portrait_path.read_bytes())
    private = tmp_path_factory.mktemp("private")
    (private / "secret.jpg").write_bytes(portrait_path.read_bytes())
    (shared / "link.jpg").symlink_to(private / "secret.jpg")
    args = app.parse_args(["--mcp", "--allow-folder", str(shared)])
    demo = app.build_demo(app.Animator("tiny", device="cpu"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                            **app.launch_kwargs(app.InputLimits(), mcp=args.mcp))
    allow_local_files(demo, allowed_folders(args.allow_folder))
    try:
        yield shared, private, f"{url}gradio_api/mcp/"
    finally:
        demo.close()


def call(mcp_url: str, tool: str, arguments: dict):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def go():
        async with streamablehttp_client(mcp_url) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool(tool, arguments)

    return asyncio.run(go())


def test_readme_mcp_call_runs_as_written(shared, tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("For agents:", 1)[1]
    script = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "http://127.0.0.1:7860/gradio_api/mcp/" in script and "base64" in script
    script_file = tmp_path / "mcp_client.py"
    script_file.write_text(script.replace("http://127.0.0.1:7860/gradio_api/mcp/", shared[2]))
    done = subprocess.run([sys.executable, str(script_file)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("False ") and "animation.mp4" in done.stdout


def test_files_by_path_only_from_the_allowed_folder(shared):
    folder, private, url = shared
    ok = call(url, "extract_pose", {"portrait": str(folder / "me.jpg"), "motion": "wave"})
    assert not ok.isError and "pose_preview.mp4" in ok.content[0].text
    for path in (private / "secret.jpg", folder / ".." / private.name / "secret.jpg",
                 folder / "link.jpg", Path("/etc/passwd")):
        refused = call(url, "extract_pose", {"portrait": str(path), "motion": "wave"})
        assert refused.isError, path
        assert "is not a file inside the folders this server was started to share" in \
            refused.content[0].text
    local = call(url, "extract_pose", {"portrait": "http://127.0.0.1:1/me.jpg",
                                       "motion": "wave"})
    assert local.isError and "does not download from local addresses" in local.content[0].text


def test_paths_without_allowed_folders_and_launch_checks(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="start it with --allow-folder DIR"):
        local_file(str(tmp_path / "me.jpg"), [])
    with pytest.raises(ValueError, match="not an absolute path"):
        local_file("me.jpg", [tmp_path])
    assert local_file("data:image/jpeg;base64,AAAA", []) is None
    with pytest.raises(ValueError, match="no such folder"):
        allowed_folders([tmp_path / "missing"])
    monkeypatch.setenv("ANIMATOR_ALLOW_FOLDERS", os.pathsep.join([str(tmp_path), "/srv"]))
    assert app.parse_args(["--allow-folder", "/x"]).allow_folder == [str(tmp_path), "/srv",
                                                                      "/x"]
