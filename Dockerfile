# Townhall runs TypeScript through tsx, so the image is the sources plus production dependencies.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# FreeDict word lists for cross-language question merging (GPL data, installed beside Townhall, not copied into it).
RUN apt-get update && apt-get install -y --no-install-recommends dict-freedict-spa-eng dict-freedict-por-eng dict-freedict-fra-eng \
    dict-freedict-tur-eng dict-freedict-ara-eng dict-freedict-eng-rus dict-freedict-eng-spa dict-freedict-eng-por dict-freedict-eng-fra \
    dict-freedict-eng-tur dict-freedict-eng-ara && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY adapters ./adapters
COPY config ./config
COPY test/fakes ./test/fakes
COPY test/fixtures ./test/fixtures
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.TOWNHALL_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "bin/townhall.js", "start"]
