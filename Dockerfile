# The predictor as a Lambda container image, for users with Docker:
#
#   docker build --platform linux/amd64 -t amesops-predictor .
#   docker build --platform linux/arm64 --build-arg TARGET=aarch64-unknown-linux-gnu -t amesops-predictor:arm64 .
#   docker run --rm -p 9000:8080 -e PREDICTIONS_URI=/tmp amesops-predictor   # Lambda runtime emulator
#
# `amesops image push` builds the same final image without Docker (our layer on top of the same
# base image) and pushes it to ECR.
#
# MODEL (build argument) is the model artifact to bake in, relative to the build context.

# ---- build: the bootstrap, cross-compiled for Amazon Linux 2023 (glibc 2.34) ----------------
FROM rust:1.95-bookworm AS build
ARG TARGET=x86_64-unknown-linux-gnu
ARG CARGO_LAMBDA_VERSION=1.9.2
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/cargo-lambda \
 && /opt/cargo-lambda/bin/pip install --no-cache-dir "cargo-lambda==${CARGO_LAMBDA_VERSION}" \
 && rustup target add "${TARGET}"
ENV PATH="/opt/cargo-lambda/bin:${PATH}"
WORKDIR /src
# The whole workspace (cargo needs every member's manifest); see .dockerignore.
COPY . .
RUN cargo lambda build --profile lambda --package predictor --bin predictor \
      --target "${TARGET}.2.34" --lambda-dir /out --flatten predictor \
 && test -x /out/bootstrap

# ---- run: the Lambda base image for custom runtimes -----------------------------------------
FROM public.ecr.aws/lambda/provided:al2023
ARG MODEL=models/model.json
COPY --from=build /out/bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap
COPY ${MODEL} ${LAMBDA_TASK_ROOT}/model.json
ENV MODEL_PATH=/var/task/model.json \
    AWS_LAMBDA_LOG_FORMAT=JSON
# /lambda-entrypoint.sh (the base image's entry point) runs ${LAMBDA_RUNTIME_DIR}/bootstrap;
# it takes the handler name as its one argument.
CMD ["bootstrap"]
