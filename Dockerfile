# Townhall's image: the compiled JavaScript (npm run build) and the production dependencies; no TypeScript loader,
# no tests. Two stages: the first compiles, the second holds only what runs.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json townhall.ts ./
COPY scripts/build.js ./scripts/
COPY src ./src
COPY adapters ./adapters
COPY fakes ./fakes
COPY config ./config
COPY bench ./bench
RUN npm run build

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# FreeDict word lists for cross-language question merging (GPL data, installed beside Townhall, not copied into it).
RUN apt-get update && apt-get install -y --no-install-recommends dict-freedict-spa-eng dict-freedict-por-eng dict-freedict-fra-eng \
    dict-freedict-tur-eng dict-freedict-ara-eng dict-freedict-eng-rus dict-freedict-eng-spa dict-freedict-eng-por dict-freedict-eng-fra \
    dict-freedict-eng-tur dict-freedict-eng-ara && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin/townhall.js ./bin/
COPY config/townhall.example.yaml ./config/
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.TOWNHALL_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/townhall.js", "start"]
