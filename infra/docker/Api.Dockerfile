# syntax=docker/dockerfile:1
# Optimizer Api image. Build from the repository root:
#   docker build -f infra/docker/Api.Dockerfile -t optimizer-api .
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
COPY global.json Directory.Build.* Directory.Packages.props .editorconfig ./
# Directory.Build.targets imports build/*.targets (the libstdc++ check; it patches nothing on Ubuntu).
COPY build/ build/
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Api/Optimizer.Api.csproj -c Release -o /app

# Ubuntu 24.04 (noble) runtime: its libstdc++ is new enough for everything; curl is for the healthcheck.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
# Non-root user that the .NET images provide.
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "Optimizer.Api.dll"]
