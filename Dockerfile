# syntax=docker/dockerfile:1
# GenAI server image. CPU (default):   docker build -t genai .
#                     CUDA variant:    docker build --build-arg VARIANT=cuda -t genai:cuda .
#                     (needs a NuGet feed that serves TorchSharp-cuda-linux)
ARG VARIANT=cpu

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG VARIANT
WORKDIR /src
COPY . .
RUN CUDA=$([ "$VARIANT" = "cuda" ] && echo true || echo false) \
 && dotnet publish src/GenAI.Server -c Release -r linux-x64 --self-contained false -p:GenAICuda=$CUDA -o /out/server \
 && dotnet publish src/GenAI.Worker -c Release -r linux-x64 --self-contained false -p:GenAICuda=$CUDA -o /out/worker

# Ubuntu 24.04's libstdc++ satisfies TorchSharp as shipped.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime-cpu

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS runtime-cuda
COPY --from=mcr.microsoft.com/dotnet/aspnet:10.0-noble /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && groupadd --gid 1654 app && useradd --uid 1654 --gid app --no-create-home app
ENV APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080

FROM runtime-${VARIANT}
WORKDIR /app
COPY --from=build /out/server /app/server
COPY --from=build /out/worker /app/worker
# The default model; named volumes mounted on /models start with it.
COPY models/ /models/
RUN mkdir -p /data && chown -R 1654:1654 /models /data
ENV GenAI__ModelsRoot=/models \
    GenAI__Device=auto \
    ASPNETCORE_HTTP_PORTS=8080
VOLUME ["/models", "/data"]
EXPOSE 8080
USER 1654
HEALTHCHECK --interval=15s --timeout=6s --start-period=60s --retries=3 CMD ["dotnet", "/app/server/GenAI.Server.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "/app/server/GenAI.Server.dll"]
