# Workers for docker-compose.yml (and any cluster). Two targets:
#   cpu: workflows, data and variants (task queue `bgstudy`); training uses tfjs-node where its install could
#        download libtensorflow, else the WASM backend.
#   gpu: training and evaluation (task queue `bgstudy-gpu`) with @tensorflow/tfjs-node-gpu on CUDA.
FROM node:20-bookworm-slim AS cpu
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's CPU binding ships in the package; skip its optional CUDA provider download.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production BGSTUDY_STORE=s3
ENTRYPOINT ["node", "bin/bgstudy.cjs"]
CMD ["worker", "--queue", "cpu"]

# tfjs-node-gpu 4.x links against CUDA 11.x / cuDNN 8; its install script downloads libtensorflow (this
# build needs network access, unlike the rest of the project).
FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl build-essential python3 \
  && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
  && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node 1.30's CUDA provider needs CUDA 12 (this image is 11.8 for tfjs-node-gpu): ONNX runs on CPU.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm install --no-save --foreground-scripts @tensorflow/tfjs-node-gpu@4.22.0
COPY . .
ENV NODE_ENV=production BGSTUDY_STORE=s3 BGSTUDY_BACKEND=tfjs-node-gpu
ENTRYPOINT ["node", "bin/bgstudy.cjs"]
CMD ["worker", "--queue", "gpu"]
