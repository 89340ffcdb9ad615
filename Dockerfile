# The grader and its Dask workers: Python, the course package (the reference in solutions/ is the
# grader's oracle), bubblewrap for the sandbox, and Dask. One image for the scheduler, the workers
# and the client, so that every worker has exactly the grader's environment.
#
#   docker build -t dlcourse-grader .
#   docker run --rm dlcourse-grader python -m autograder grade --submission solutions --unit 01
#   docker run -d --name sched -p 8786:8786 dlcourse-grader dask scheduler
#   docker run -d --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#       dlcourse-grader dask worker tcp://SCHEDULER:8786 --nthreads 1 --nworkers auto
#
# bubblewrap inside a container needs user namespaces, which Docker's default seccomp and
# AppArmor profiles refuse: run workers with the two --security-opt above (or on a host that
# allows them). Without them the grader still runs, contained by process limits only, and every
# report's "containment" field says so.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap make \
    && rm -rf /var/lib/apt/lists/*

# Dask's settings for grading (autograder/cluster.py): a submission whose task was on 3 workers
# that died is marked crashed; a worker holds only the task it runs; workers are not daemonic
# processes, so that they can start the grader's sandboxed process.
ENV DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2 \
    DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0 \
    DASK_DISTRIBUTED__WORKER__DAEMON=False \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /course
# Torch's CPU build first, as the Makefile does, so that nothing pulls a multi-GB CUDA build.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
    || pip install "torch==2.13.0"
COPY pyproject.toml README.md Makefile ./
COPY autograder autograder
COPY coursework coursework
COPY solutions solutions
RUN pip install -e '.[cluster]' && python -m autograder stubs --check

# Graded code never runs as root inside the sandbox either way; the worker itself need not.
RUN useradd --create-home grader && chown -R grader /course
USER grader
CMD ["dask", "worker", "--help"]
