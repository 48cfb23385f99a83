# Workers for docker-compose.yml (and any cluster). Two targets:
#   cpu: workflows, data and variants (task queue `bgstudy`); training uses tfjs-node where its install could
#        download libtensorflow, else the WASM backend.
#   gpu: training and evaluation (task queue `bgstudy-gpu`) with the libtorch engine on CUDA: PyTorch's CUDA
#        build supplies libtorch, and the addon is compiled against it at build time.
FROM node:20-bookworm-slim AS cpu
WORKDIR /app
COPY package.json package-lock.json ./
# node:20 ships npm 10, which ignores package.json's allowScripts and runs every install script: skip
# onnxruntime-node's CUDA provider download (its CPU binding ships in the package).
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production BGSTUDY_STORE=s3
ENTRYPOINT ["node", "bin/bgstudy.cjs"]
CMD ["worker", "--queue", "cpu"]

# PyTorch's image: CUDA 12 runtime, cuDNN and python3's torch with its libtorch headers and libraries, which
# infra/build-torch.ts compiles the addon against (a C++ compiler and Node 20 are added).
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl g++ \
  && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
  && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
RUN npx tsx infra/build-torch.ts --required
ENV NODE_ENV=production BGSTUDY_STORE=s3 BGSTUDY_BACKEND=libtorch
ENTRYPOINT ["node", "bin/bgstudy.cjs"]
CMD ["worker", "--queue", "gpu"]
