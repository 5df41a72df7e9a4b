"""The jobs under a bare `rq worker`: no app, a pipeline built from the environment."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
from jobs.pipeline import Pipeline, _pipeline
pipeline = _pipeline()
print(isinstance(pipeline, Pipeline), pipeline is _pipeline(), "service.app" in sys.modules)
print(pipeline.config.queue_name)
"""


def test_a_bare_rq_worker_builds_its_pipeline_from_the_environment_not_the_app(config):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "INSTANCE_PATH": str(config.instance_path),
        "QUEUE_NAME": "bare-rq",
        "SECRET_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True True False", "bare-rq"]
