# syntax=docker/dockerfile:1
# fristvagt: one image for every role (api, worker, all-in-one `start`); the command picks the role.
# Written without a Docker engine at hand (see README "Deployment"); the build steps are the same
# ones CI runs (npm ci → tsc), so a failing build here means a failing CI as well.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-postgres.mjs ./scripts/patch-postgres.mjs
# `prepare` builds with tsc, which needs the sources: install without scripts first, build after copying.
# --ignore-scripts skips our "postinstall" too, so the postgres driver patch is applied here by hand
# (it fails the build if the driver is not the pinned version); `npm prune` below keeps the patched files.
RUN npm ci --ignore-scripts --no-audit --no-fund && node scripts/patch-postgres.mjs
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
COPY templates ./templates
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    FRISTVAGT_DATA_DIR=/var/lib/fristvagt
WORKDIR /app
RUN groupadd --system fristvagt && useradd --system --gid fristvagt --home-dir /app fristvagt \
 && mkdir -p /var/lib/fristvagt && chown fristvagt:fristvagt /var/lib/fristvagt
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time from the package root: SQL migrations and the e-mail templates.
COPY --from=build /app/src/db/migrations ./src/db/migrations
COPY --from=build /app/templates ./templates
USER fristvagt
VOLUME ["/var/lib/fristvagt"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["api"]
