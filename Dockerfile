# Rollout Desk — production image for Azure Container Apps, AKS, or App Service for containers.
#
#   docker build -t rollout-desk .
#   docker run -p 3978:3978 --env-file prod.env rollout-desk
#
# Three stages: `build` compiles TypeScript and bundles the dashboard tab (dev dependencies), `deps`
# installs only the runtime dependencies, and the final stage holds just those and the compiled app and tab,
# running as the non-root `node` user. The Node major version must match the App Service stack in infra/main.bicep (a test checks it).
# `npm run package:server` lays out the same final-stage files for App Service code deployment.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The dashboard tab's bundles are built here too (esbuild is a dev dependency) and shipped from this stage.
COPY tab ./tab
COPY scripts/build-tab.ts scripts/copy-server-assets.ts ./scripts/
RUN npm run build

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3978 \
    OTEL_SERVICE_NAME=rollout-desk
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY cards ./cards
COPY --from=build /app/tab ./tab
COPY sample ./sample
USER node
EXPOSE 3978
# /healthz answers while the process serves requests; /readyz also checks storage (use it for readiness probes).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3978) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains in-flight work for up to SHUTDOWN_TIMEOUT_SECONDS (default 20): give the container longer
# than that before it is killed (docker stop -t 30; Container Apps and AKS default to 30 s).
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
