# Gantry app image (control plane and gateway; the same image runs either process):
#   control plane: node dist/control-plane/main.js      gateway: node dist/gateway/main.js
#   both in one process: node dist/main.js (the default command)
# This is the registry path (FROM the public Node image). Where no registry is reachable,
# scripts/compose-local.sh builds ./Dockerfile.local instead (Debian base + the host's Node 20);
# keep the two layouts in step: /app/{package.json,dist,node_modules,migrations}.
#
# Docker socket and user: the image runs as the unprivileged `node` user (uid 1000), which is
# right for the gateway. The control plane drives the host's Docker engine through
# /var/run/docker.sock (root:docker, mode 0660, and the docker gid differs per host) and writes
# under the host's GANTRY_DATA_DIR (root-owned by default), so docker-compose.yml runs the
# control-plane service as root (`user: "0:0"`). Socket access is root-equivalent anyway, so a
# non-root uid in the docker group would buy little; if you prefer it, drop `user:` and use
# `group_add: ["<gid of docker.sock>"]` with a data dir owned by uid 1000.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json main.ts ./
COPY common ./common
COPY control-plane ./control-plane
COPY gateway ./gateway
COPY single-process ./single-process
COPY console ./console
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The control plane finds migrations/ by walking up from its module to the folder holding both
# package.json and migrations/, i.e. /app.
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY migrations ./migrations
# The internal token's directory (docker-compose.yml mounts the gantry-secrets volume here): a
# new volume takes this owner and mode, so the gateway, running as node, can read the token file.
RUN install -d -o node -g node -m 0700 /var/lib/gantry-secrets
USER node
EXPOSE 9000 8080
CMD ["node", "dist/main.js"]
