# The Sluice image: Node 24 and Sluice's production dependencies on a minimal root taken from
# Debian, run as a non-root user, `sluice` as the entrypoint.
#
# Build it with scripts/build-image.sh: it makes the base image from a Debian root filesystem
# (debootstrap; no container registry needed) and prepares the build context (.image/): the Node 24
# binary, Sluice compiled to dist/, and the production node_modules (npm ci --omit=dev).
ARG BASE_IMAGE=localhost/sluice-base:bookworm

# Stage 1, on the Debian base: the few files Node needs at run time, gathered under /out.
FROM ${BASE_IMAGE} AS runtime-root
COPY node /out/usr/local/bin/node
COPY sluice /out/usr/local/bin/sluice
RUN set -eu; \
    mkdir -p /out/etc/ssl/certs /out/tmp /out/bin /out/data; \
    chmod 1777 /out/tmp; \
    for lib in $(ldd /out/usr/local/bin/node | awk '/=>/ { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }'); do \
      mkdir -p "/out$(dirname "$lib")"; \
      cp -L "$lib" "/out$lib"; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/; \
    cp /bin/busybox /out/bin/busybox; \
    for applet in sh date sleep basename cat ls env id wget; do ln -s busybox "/out/bin/$applet"; done; \
    printf 'root:x:0:0:root:/root:/bin/sh\nsluice:x:10001:10001:sluice:/data:/bin/sh\n' > /out/etc/passwd; \
    printf 'root:x:0:\nsluice:x:10001:\n' > /out/etc/group; \
    chown 10001:10001 /out/data; \
    chmod 755 /out/usr/local/bin/sluice /out/usr/local/bin/node; \
    /out/usr/local/bin/node --version

# Stage 2: the image, from nothing but stage 1's files and the application.
FROM scratch
COPY --from=runtime-root /out/ /
COPY app/ /app/
ENV NODE_ENV=production \
    PATH=/usr/local/bin:/bin
# The working directory is writable: a standalone worker keeps its state in .data under it.
WORKDIR /data
USER 10001:10001
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/node", "/app/healthcheck.mjs"]
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["standalone"]
