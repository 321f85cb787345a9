# Builds the plugin, the reconciler, the inspect command and the installer as single files, and an
# image whose entry point installs the plugin and a Node.js runtime into a node's CNI bin directory.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY cmd ./cmd
COPY lib ./lib
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim
# The installer copies this bundle, and the node executable that runs it, to the host
# (manifests/daemonset.yaml).
COPY --from=build /src/dist/bin/leasehold /usr/local/lib/leasehold/leasehold
COPY --from=build /src/dist/bin/leasehold-install /usr/local/bin/leasehold-install
# The reconciler runs from the same image as a CronJob (manifests/reconciler-cronjob.yaml).
COPY --from=build /src/dist/bin/leasehold-reconcile /usr/local/bin/leasehold-reconcile
# leasehold-inspect lists the allocations; run it from this image with the reconciler's ServiceAccount.
COPY --from=build /src/dist/bin/leasehold-inspect /usr/local/bin/leasehold-inspect
ENTRYPOINT ["/usr/local/bin/leasehold-install"]
