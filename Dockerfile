# syntax=docker/dockerfile:1
# GenAI image: the server (entry point) and the training worker (/app/worker), with the default model in /models.
#   CPU (default):  docker build -t genai .
#   CUDA variant:   docker build --build-arg VARIANT=cuda -t genai:cuda .
#                   (needs a NuGet feed that serves TorchSharp-cuda-linux)
# docker/README.md has the compose setup (API + worker) and every setting.
# tests/GenAI.Server.Tests/PublishedAppTests.cs runs the published server with this file's entry point and environment.
ARG VARIANT=cpu
# TorchSharp 0.107 (libtorch 2.10) is built against CUDA 12.8.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG VARIANT
WORKDIR /src
COPY . .
# The NuGet cache mount keeps the ~1.2 GB TorchSharp restore across builds.
RUN --mount=type=cache,target=/root/.nuget/packages \
    CUDA=$([ "$VARIANT" = "cuda" ] && echo true || echo false) \
 && dotnet publish src/GenAI.Server -c Release -r linux-x64 --self-contained false -p:GenAICuda=$CUDA -o /out/server \
 && dotnet publish src/GenAI.Worker -c Release -r linux-x64 --self-contained false -p:GenAICuda=$CUDA -o /out/worker

# Ubuntu 24.04's libstdc++ satisfies TorchSharp as shipped. The base sets APP_UID=1654 (user "app") and ASPNETCORE_HTTP_PORTS=8080.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime-cpu

# The CUDA base has no .NET: the ASP.NET runtime is copied in, with the packages and user its own base image adds.
FROM ${CUDA_IMAGE} AS runtime-cuda
COPY --from=mcr.microsoft.com/dotnet/aspnet:10.0-noble /usr/share/dotnet /usr/share/dotnet
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libicu74 libssl3t64 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && groupadd --gid 1654 app && useradd --no-log-init --uid 1654 --gid 1654 --create-home app
ENV APP_UID=1654 \
    ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true

FROM runtime-${VARIANT}
WORKDIR /app
COPY --from=build /out/server /app/server
COPY --from=build /out/worker /app/worker
# The default model. A named volume mounted on /models starts as a copy of it (owner included: the worker publishes there).
COPY --chown=1654:1654 models/ /models/
RUN mkdir -p /data && chown 1654:1654 /data
# GenAI__DataRoot: the job store (genai.db), uploaded files and job work folders.
# GenAI__InProcessWorker: this container trains fine-tuning jobs itself unless a separate worker does (docker/compose.yaml).
# The HEALTHCHECK's `healthcheck` verb probes 127.0.0.1:$ASPNETCORE_HTTP_PORTS/health/ready: change the port there, not with ASPNETCORE_URLS.
ENV GenAI__ModelsRoot=/models \
    GenAI__DataRoot=/data \
    GenAI__InProcessWorker=true \
    GenAI__Device=auto \
    ASPNETCORE_HTTP_PORTS=8080
VOLUME ["/models", "/data"]
EXPOSE 8080
USER 1654
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 CMD ["dotnet", "/app/server/GenAI.Server.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "/app/server/GenAI.Server.dll"]
