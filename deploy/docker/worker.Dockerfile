# vmtrace worker: Kafka → per-host analysis → InfluxDB (`vmtrace worker`), and `vmtrace influx init`.
# Build from the repository root: docker build -f deploy/docker/worker.Dockerfile -t vmtrace/worker:dev .
FROM mcr.microsoft.com/dotnet/sdk:10.0.100 AS build
WORKDIR /src
COPY .editorconfig global.json Directory.Build.props Directory.Packages.props ./
COPY proto/ proto/
COPY src/ src/
RUN dotnet publish src/Vmtrace.Cli/Vmtrace.Cli.csproj -c Release -o /app --nologo

# ASP.NET Core runtime: the service serves /metrics and /healthz (docs/observability.md).
FROM mcr.microsoft.com/dotnet/aspnet:10.0.0
WORKDIR /app
COPY --from=build /app ./
COPY kafka/appsettings.worker.example.json /etc/vmtrace/worker.json
USER app
ENTRYPOINT ["dotnet", "/app/vmtrace.dll"]
CMD ["worker", "--config", "/etc/vmtrace/worker.json"]
