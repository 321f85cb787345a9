# Builds the single-file plugin, reconciler and inspect command, and an image that installs the plugin into a
# node's CNI bin directory.
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
COPY --from=build /src/dist/bin/leasehold /usr/local/lib/leasehold/leasehold
# The reconciler runs from the same image as a CronJob (manifests/reconciler-cronjob.yaml).
COPY --from=build /src/dist/bin/leasehold-reconcile /usr/local/bin/leasehold-reconcile
# leasehold-inspect lists the allocations; run it from this image with the reconciler's ServiceAccount.
COPY --from=build /src/dist/bin/leasehold-inspect /usr/local/bin/leasehold-inspect
COPY scripts/install-cni.sh /usr/local/bin/install-cni
ENTRYPOINT ["/usr/local/bin/install-cni"]
