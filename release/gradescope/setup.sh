#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (base image "Ubuntu
# 22.04" or "24.04"). It installs Python 3.11, the version the project is tested with, and
# exactly the packages of requirements.lock: the instructor's environment, every
# transitive dependency pinned, nothing resolved anew.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq software-properties-common > /dev/null
add-apt-repository -y ppa:deadsnakes/ppa > /dev/null
apt-get install -y -qq python3.11 python3.11-venv > /dev/null
python3.11 -m venv /autograder/venv
# PyTorch's CPU wheels (torch==X+cpu): Gradescope's machines have no GPU, and the default
# wheels carry gigabytes of CUDA libraries.
/autograder/venv/bin/pip install --quiet --disable-pip-version-check --no-deps \
    --extra-index-url https://download.pytorch.org/whl/cpu -r /autograder/source/requirements.lock
/autograder/venv/bin/pip check
/autograder/venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version'
