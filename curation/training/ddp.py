"""Several processes (DDP): `finetune --gpus N|auto` runs the same `run_training` under torchrun, one process per
GPU, or N processes on the CPU with the gloo backend (how the tests prove the path). The launching process
shows the main process's progress and stops the whole group when it is interrupted; the next run resumes from
the last checkpoint as a single-process run does.

Run as `python -m curation.training.ddp PLAN.json` by torchrun, not by hand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import torch

from curation.core import ProgressCallback
from curation.training.errors import FinetuneError
from curation.training.recipe import PROGRESS, TrainingOutcome, TrainingPlan, run_training


def process_count(gpus: str | int | None) -> int:
    """How many processes `--gpus` asks for: auto = every GPU (1 without any); 1 trains in this process."""
    if gpus in (None, "", 1, "1"):
        return 1
    if gpus == "auto":
        return max(1, torch.cuda.device_count())
    try:
        count = int(gpus)
    except ValueError as exc:
        raise FinetuneError(f"--gpus {gpus!r}: a number of processes, or auto") from exc
    if count < 1:
        raise FinetuneError("--gpus: at least 1")
    if torch.cuda.is_available() and count > torch.cuda.device_count():
        raise FinetuneError(f"--gpus {count}: this machine has {torch.cuda.device_count()} GPUs")
    return count


def launch(plan: TrainingPlan, processes: int, progress: ProgressCallback | None = None) -> TrainingOutcome:
    """Train under torchrun with `processes` processes; raises FinetuneError with the log's tail on failure."""
    plan_file = plan.checkpoints / "plan.json"
    plan_file.write_bytes(plan.model_dump_json().encode())
    log = plan.checkpoints / "torchrun.log"
    (plan.checkpoints / "outcome.json").unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
        "-m", "curation.training.ddp", str(plan_file),
    ]  # fmt: skip
    root = str(Path(__file__).resolve().parents[2])  # where `curation` is, installed or a checkout
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            while proc.poll() is None:
                time.sleep(0.5)
                if progress and (plan.checkpoints / PROGRESS).exists():
                    done, total = orjson.loads((plan.checkpoints / PROGRESS).read_bytes())
                    progress(done, total)
        except BaseException:
            os.killpg(proc.pid, signal.SIGTERM)  # the group: torchrun and every training process
            proc.wait()
            raise
    outcome = plan.checkpoints / "outcome.json"
    if proc.returncode != 0 or not outcome.exists():
        tail = log.read_text(errors="replace")[-2000:]
        raise FinetuneError(f"the {processes}-process training failed (exit {proc.returncode}):\n{tail}")
    return TrainingOutcome.model_validate_json(outcome.read_bytes())


def main(plan_file: str) -> None:
    run_training(TrainingPlan.model_validate_json(Path(plan_file).read_bytes()))


if __name__ == "__main__":
    main(sys.argv[1])
