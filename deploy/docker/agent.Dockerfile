# vmtrace agent replaying recorded traces into Kafka (`vmtrace agent`); the image holds the repository's
# sample (samples/tcg-3vms: three QEMU/TCG VMs) at /samples. A live agent runs on the KVM host itself
# (docs/live-agent.md), not in a container.
# Build from the repository root: docker build -f deploy/docker/agent.Dockerfile -t vmtrace/agent:dev .
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
COPY samples/tcg-3vms/ /samples/tcg-3vms/
COPY kafka/appsettings.agent.example.json /etc/vmtrace/agent.json
USER app
ENTRYPOINT ["dotnet", "/app/vmtrace.dll"]
CMD ["agent", "--config", "/etc/vmtrace/agent.json"]
