"""Shared test set-up: no network, quiet native libraries, the bundled example media."""

import os

# Before anything imports huggingface_hub, gradio or mediapipe.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One compute thread per test process (and the commands it starts): the suite runs in two
# processes on two cores, where a second thread in each only spins against the other.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Every temporary file of this test process (job folders under <tmp>/animator included) and
# of the subprocesses it starts goes into a folder of its own, so that test runs side by
# side (xdist workers, other checkouts) never see each other's files.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

# Detected poses are shared by every process of one test run (the xdist controller makes
# the folder before it starts the workers, which inherit it, as do the commands they run):
# the same footage read the same way is detected once (animator/pose/store.py). Tests that
# count detections use an Animator without a store.
if "ANIMATOR_POSE_CACHE" not in os.environ:
    os.environ["ANIMATOR_POSE_CACHE"] = tempfile.mkdtemp(prefix="animator-test-poses-")
    atexit.register(shutil.rmtree, os.environ["ANIMATOR_POSE_CACHE"], ignore_errors=True)

_TMP = tempfile.mkdtemp(prefix="animator-tests-")
os.environ["TMPDIR"] = _TMP
tempfile.tempdir = None  # gettempdir() reads TMPDIR again
os.environ["ANIMATOR_CACHE_DIR"] = os.path.join(_TMP, "cache")  # the CPU speed figure
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# The heaviest modules, collected first: xdist hands whole modules to the two processes in
# collection order, so a heavy module collected last would run alone at the end.
HEAVY_FIRST = (
    "tests/test_readme.py", "tests/test_app.py", "tests/test_cli.py",
    "tests/evaluate/test_evaluate.py", "tests/ui/test_page_browser.py",
    "tests/families/svd/test_pipeline.py", "tests/pose/test_real_media.py",
    "tests/families/wan2/test_family.py", "tests/families/svd/train/test_loop.py",
    "tests/test_animate.py", "tests/test_batch.py",
)


def pytest_collection_modifyitems(items):
    rank = {module: i for i, module in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def portrait_path() -> Path:
    """The public-domain astronaut photo (upper body, one person, a clear face)."""
    return ASSETS / "portraits" / "astronaut.jpg"


@pytest.fixture(scope="session")
def driving_path() -> Path:
    """4 s, 25 fps, 384x384 clip of a real person with an AAC audio track."""
    return ASSETS / "driving" / "astronaut_sway.mp4"


@pytest.fixture(scope="session")
def app_url():
    """The real app (tiny preset) served in-process on a free local port."""
    import app
    from animator.config import InputLimits

    _, url, _ = app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                                **app.launch_kwargs(InputLimits()))
    try:
        yield url
    finally:
        app.demo.close()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A face-model folder of tiny insightface stand-ins (tests/test_face.py writes them)."""
    from tests.test_face import write_detector, write_recognizer

    folder = tmp_path_factory.mktemp("standins")
    write_detector(folder / "scrfd_standin.onnx")
    write_recognizer(folder / "glint_standin.onnx")
    return folder
