# SPDX-License-Identifier: Apache-2.0
# berth's image: berth-provisioner, berth-peers and berthctl in
# /usr/local/bin, with exactly the shared libraries they load, the CA
# bundle and a non-root user (65532). scripts/image builds the same image
# without Docker (umoci); both lay out the root filesystem with
# `scripts/image --assemble`.
#
#   docker build -t berth:0.1.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) .
#   docker run --rm berth:0.1.0 berth-peers --version
#
# No ENTRYPOINT: the command is the program, so one image serves all
# three (CMD is berth-provisioner; a sidecar sets `command: [berth-peers]`).
# berth-peers-static (no libraries at all) is what the init container
# `command: [berth-peers, install, /work-dir]` copies into a shared
# emptyDir, for a hook that runs in another image (peer-finder's pattern).

# --- build: Debian bookworm with the -dev packages --------------------------
FROM debian:bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libcurl4-openssl-dev libjansson-dev libssl-dev libnfs-dev libc-ares-dev \
      libyaml-dev libexpat1-dev libmicrohttpd-dev python3 git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The commit --version prints, and every time stamp (BuildKit honours
# SOURCE_DATE_EPOCH for the image's own).
ARG REVISION=unknown
ARG SOURCE_DATE_EPOCH=0
ENV BERTH_GIT_COMMIT=${REVISION} SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH}
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBERTH_SANITIZE= \
      -DBERTH_WERROR=OFF -DBERTH_BUILD_TESTS=OFF -DBERTH_BUILD_EXAMPLES=OFF \
 && cmake --build /build -j "$(nproc)" \
      --target berth-provisioner berth-peers berth-peers-endpoints \
               berth-peers-static berthctl \
 && scripts/image --assemble /build /rootfs

# --- runtime: nothing but the root filesystem assembled above ---------------
FROM scratch
COPY --from=build /rootfs/ /
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=unknown
LABEL org.opencontainers.image.title="berth" \
      org.opencontainers.image.description="berth-provisioner, berth-peers and berthctl" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="scratch"
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
CMD ["berth-provisioner"]
