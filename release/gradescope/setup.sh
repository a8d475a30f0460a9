#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image. Choose the base image
# "Ubuntu 24.04" (its python3 is 3.12); the grader needs Python 3.11 or newer.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip > /dev/null
python3 -m venv /autograder/venv
# PyTorch's CPU wheels: Gradescope's machines have no GPU, and the default wheels carry
# gigabytes of CUDA libraries.
/autograder/venv/bin/pip install --quiet --disable-pip-version-check \
    --extra-index-url https://download.pytorch.org/whl/cpu -r /autograder/source/requirements.txt
