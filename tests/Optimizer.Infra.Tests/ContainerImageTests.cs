using System.Text.Json;
using System.Text.RegularExpressions;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Routing;
using Optimizer.Infra.Tests.Kustomize;
using Optimizer.Infra.Tests.Support;

namespace Optimizer.Infra.Tests;

/// <summary>
/// The Dockerfiles and docker-compose.yml, read as text (no Docker engine here): multi-stage, Ubuntu runtime, non-root,
/// a build context that holds everything the build imports, and the TorchVariant switch between CPU and CUDA libtorch.
/// </summary>
public sealed partial class ContainerImageTests
{
    public static TheoryData<string> Dockerfiles => ["Api.Dockerfile", "Worker.Dockerfile"];

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_IsMultiStage_WithAnUbuntuDotnet10Runtime_RunAsNonRoot(string file)
    {
        var lines = Instructions(file);
        var stages = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        var final = lines.Skip(lines.LastIndexOf(stages[^1])).ToList();

        Assert.True(stages.Count >= 2, $"{file}: a single stage ships the SDK");
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/sdk:10\.0-noble AS build$", stages[0]);
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/(aspnet|runtime):10\.0-noble$", stages[^1]);
        Assert.Contains("USER $APP_UID", final);
        Assert.Contains(final, l => l.StartsWith("ENTRYPOINT [\"dotnet\"", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfile_CopiesEveryFileTheBuildImports_AndOnlyFilesThatExist(string file)
    {
        var copied = Instructions(file).Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from="))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1]).ToList();
        // Directory.Build.targets/props import files from other folders (build/): the image build fails without them.
        var imported = new[] { "Directory.Build.props", "Directory.Build.targets" }
            .SelectMany(f => ImportedPath().Matches(Repository.Read(f)).Select(m => m.Groups["path"].Value));

        Assert.All(copied, source => Assert.True(
            source.Contains('*') || File.Exists(Repository.PathOf(source)) || Directory.Exists(Repository.PathOf(source)), $"{file}: COPY {source} does not exist"));
        Assert.All(imported, path => Assert.True(
            copied.Any(c => path.StartsWith(c.TrimEnd('/') + "/", StringComparison.Ordinal) || c == path), $"{file} does not copy {path}"));
    }

    [Fact]
    public void WorkerDockerfile_PassesTheTorchVariantBuildArgToTheBuild()
    {
        var lines = Instructions("Worker.Dockerfile");

        Assert.Contains("ARG TORCH_VARIANT=cpu", lines);
        Assert.Contains(lines, l => l.StartsWith("RUN ", StringComparison.Ordinal) && l.Contains("dotnet publish") && l.Contains("-p:TorchVariant=$TORCH_VARIANT"));
    }

    [Theory]
    [InlineData("cpu", "libtorch-cpu-linux-x64", "TorchSharp-cuda-linux")]
    [InlineData("cuda", "TorchSharp-cuda-linux", "libtorch-cpu-linux-x64")]
    public void TorchVariant_SelectsTheLibtorchPackage_WithACentralVersion(string variant, string expected, string absent)
    {
        // What MSBuild evaluates (the CUDA package is not restorable here, but evaluation needs no restore).
        var references = MsBuild.Items("src/Worker/Optimizer.Worker.csproj", "PackageReference", $"-p:TorchVariant={variant}");
        var versions = MsBuild.Items("src/Worker/Optimizer.Worker.csproj", "PackageVersion", $"-p:TorchVariant={variant}")
            .ToDictionary(i => i.Identity, i => i.Metadata["Version"]);

        Assert.Contains("TorchSharp", references.Select(r => r.Identity));
        Assert.Contains(expected, references.Select(r => r.Identity));
        Assert.DoesNotContain(absent, references.Select(r => r.Identity));
        Assert.True(versions.ContainsKey(expected), $"{expected} has no PackageVersion in Directory.Packages.props");
        // TorchSharp-cuda-linux is released with TorchSharp: the same version, or restore pulls a second TorchSharp.
        Assert.Equal(versions["TorchSharp"], versions["TorchSharp-cuda-linux"]);
    }

    [Fact]
    public void Compose_RunsTheImagesTheManifestsUse_AndAGpuProfileWorkerWithAGpuReservation()
    {
        var compose = Yaml.LoadDocuments(Repository.PathOf("docker-compose.yml")).Single();
        var services = (JsonObject)compose["services"]!;
        var gpu = services["worker-gpu"]!;
        var baseImages = Workload.All(Manifests.Render(Manifests.Base)).Where(w => w.IsOptimizer)
            .Select(w => Kustomization.Text(w.Container["image"])!).ToHashSet();

        Assert.Equal(baseImages, new[] { "api", "worker", "worker-gpu" }.Select(s => Kustomization.Text(services[s]!["image"])!).ToHashSet());
        Assert.Equal(["gpu"], Kustomization.Strings(gpu["profiles"]));
        Assert.Equal("cuda", Kustomization.Text(gpu["build"]!["args"]!["TORCH_VARIANT"]));
        Assert.Equal("gpu", Kustomization.Text(gpu["environment"]!["Worker__Queues"]));
        var device = Kustomization.Items(gpu["deploy"]!["resources"]!["reservations"]!["devices"]).Single();
        Assert.Equal("nvidia", Kustomization.Text(device["driver"]));
        Assert.Contains("gpu", Kustomization.Strings(device["capabilities"]));
    }

    [Fact]
    public void Compose_RoutesOnlyToQueuesItsWorkersServe_WithAndWithoutTheGpuProfile()
    {
        var services = (JsonObject)Yaml.LoadDocuments(Repository.PathOf("docker-compose.yml")).Single()["services"]!;
        var routes = MethodQueueRoutes.Parse(ComposeDefault(services["api"]!["environment"]!["Optimizer__MethodQueues"]), MethodCatalog.All);
        var worker = ComposeDefault(services["worker"]!["environment"]!["Worker__Queues"]).Split(',').ToHashSet();
        var gpu = Kustomization.Text(services["worker-gpu"]!["environment"]!["Worker__Queues"])!.Split(',');

        Assert.Equal("gpu", routes.QueueFor(MethodCatalog.Find("finetune", "lora")!));
        // Without the profile the one worker runs everything; with it (and OPTIMIZER_WORKER_QUEUES=cpu) cpu + gpu cover it.
        Assert.All(MethodCatalog.All, m => Assert.Contains(routes.QueueFor(m), worker));
        Assert.All(MethodCatalog.All, m => Assert.Contains(routes.QueueFor(m), gpu.Append("cpu")));
    }

    /// <summary>The default of a <c>${VAR:-default}</c> value (or the value itself).</summary>
    private static string ComposeDefault(JsonNode? value)
    {
        var text = Kustomization.Text(value)!;
        var match = Regex.Match(text, @"^\$\{\w+:-(?<d>[^}]*)\}$");
        return match.Success ? match.Groups["d"].Value : text;
    }

    /// <summary>The Dockerfile's instructions, continuation lines joined, comments dropped.</summary>
    private static List<string> Instructions(string file)
    {
        var text = Repository.Read("infra", "docker", file);
        var joined = string.Join('\n', text.Split('\n').Where(l => !l.TrimStart().StartsWith('#'))).Replace("\\\n", " ");
        return [.. joined.Split('\n').Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0)];
    }

    [GeneratedRegex(@"<Import\s+Project=""\$\(MSBuildThisFileDirectory\)(?<path>[^""]+)""")]
    private static partial Regex ImportedPath();
}
