using System.Text.RegularExpressions;
using Optimizer.Domain.Methods;
using Optimizer.Domain.Methods.Routing;
using Optimizer.Infra.Tests.Kustomize;
using Optimizer.Infra.Tests.Support;

namespace Optimizer.Infra.Tests;

/// <summary>How the objects fit together: queues, GPU placement, autoscaling, services, shutdown and sizing.</summary>
public sealed partial class TopologyTests
{
    private const double Gib = 1024.0 * 1024 * 1024;

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void EveryQueue_IsServedByAWorkerWithReplicas(string name)
    {
        var served = Workload.All(Manifests.Render(name)).Where(w => w.IsWorker && w.Replicas > 0)
            .SelectMany(w => w.Environment["Worker__Queues"].Split(',', StringSplitOptions.TrimEntries)).ToHashSet();

        Assert.All(Queues(), queue => Assert.True(served.Contains(queue), $"{name}: no worker serves the {queue} queue"));
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void EveryMethodsEffectiveQueue_AfterTheApisRouting_IsServedByAWorkerWithReplicas(string name)
    {
        var workloads = Workload.All(Manifests.Render(name));
        var served = ServedQueues(workloads);
        var routes = ApiRoutes(workloads);

        foreach (var method in MethodCatalog.All)
        {
            var queue = routes.QueueFor(method);
            Assert.True(served.Contains(queue), $"{name}: {method.Key} goes on the {queue} queue, which no worker with replicas serves");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void EveryWorkerWithReplicas_ServesAQueueSomeMethodGoesOn(string name)
    {
        var workloads = Workload.All(Manifests.Render(name));
        var routes = ApiRoutes(workloads);
        var used = MethodCatalog.All.Select(routes.QueueFor).ToHashSet();

        foreach (var worker in workloads.Where(w => w.IsWorker && w.Replicas > 0))
        {
            Assert.True(QueuesOf(worker).Overlaps(used), $"{name}: {worker.Name} serves {worker.Environment["Worker__Queues"]}, where no method goes");
        }
    }

    [Fact]
    public void Production_RoutesFineTuningToTheGpuWorkers()
    {
        var routes = ApiRoutes(Workload.All(Manifests.Render(Manifests.Production)));

        Assert.All(MethodCatalog.All.Where(m => m.Type == "finetune"), m => Assert.Equal("gpu", routes.QueueFor(m)));
        Assert.Equal("cpu", routes.QueueFor(MethodCatalog.Find("quantize", "rtn")!));
    }

    [Theory]
    [InlineData(Manifests.Base)]
    [InlineData(Manifests.Production)]
    public void GpuWorker_RequestsAndToleratesTheGpu_OnGpuNodes_ServingOnlyTheGpuQueue(string name)
    {
        var rendering = Manifests.Render(name);
        var gpu = Workload.All(rendering).Single(w => w.Name == "optimizer-worker-gpu");
        var cpu = Workload.All(rendering).Single(w => w.Name == "optimizer-worker-cpu");

        Assert.Equal("gpu", gpu.Environment["Worker__Queues"]);
        Assert.True(Quantity.Parse(Kustomization.Text(gpu.Container["resources"]?["limits"]?["nvidia.com/gpu"]) ?? "0") >= 1, "no nvidia.com/gpu limit");
        Assert.Contains(Kustomization.Items(gpu.PodSpec?["tolerations"]), t => Kustomization.Text(t["key"]) == "nvidia.com/gpu");
        Assert.NotEmpty(Rendering.Labels(gpu.PodSpec?["nodeSelector"]));
        Assert.Contains("worker-gpu", Kustomization.Text(gpu.Container["image"]));
        Assert.Null(cpu.Container["resources"]?["limits"]?["nvidia.com/gpu"]);
        Assert.DoesNotContain("gpu", cpu.Environment["Worker__Queues"].Split(','));
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void Hpa_ScalesTheApiDeployment_WithinSaneBounds(string name)
    {
        var rendering = Manifests.Render(name);
        foreach (var hpa in rendering.OfKind("HorizontalPodAutoscaler"))
        {
            var target = hpa["spec"]!["scaleTargetRef"]!;
            Assert.Equal("Deployment", Kustomization.Text(target["kind"]));
            Assert.NotNull(rendering.Find("Deployment", Kustomization.Text(target["name"])!));
            Assert.Equal("optimizer-api", Kustomization.Text(target["name"]));
            var min = int.Parse(Kustomization.Text(hpa["spec"]!["minReplicas"])!);
            Assert.InRange(min, 1, int.Parse(Kustomization.Text(hpa["spec"]!["maxReplicas"])!));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void ServicesAndDisruptionBudgets_SelectExistingPods_OnPortsTheyExpose(string name)
    {
        var rendering = Manifests.Render(name);
        var deployments = rendering.OfKind("Deployment").ToList();
        foreach (var service in rendering.OfKind("Service"))
        {
            var selector = Rendering.Labels(service["spec"]!["selector"]);
            var pods = deployments.Where(d => Selects(selector, d)).ToList();
            Assert.True(pods.Count == 1, $"Service {Rendering.Name(service)} selects {pods.Count} Deployments");
            var ports = Rendering.Containers(pods[0]).SelectMany(c => Kustomization.Items(c["ports"])).ToList();
            foreach (var port in Kustomization.Items(service["spec"]!["ports"]))
            {
                var target = Kustomization.Text(port["targetPort"]) ?? Kustomization.Text(port["port"]);
                Assert.True(ports.Any(p => Kustomization.Text(p["name"]) == target || Kustomization.Text(p["containerPort"]) == target),
                    $"Service {Rendering.Name(service)}: targetPort {target} is not a container port");
            }
        }
        foreach (var budget in rendering.OfKind("PodDisruptionBudget"))
        {
            var selector = Rendering.Labels(budget["spec"]!["selector"]!["matchLabels"]);
            Assert.Single(deployments, d => Selects(selector, d));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void TerminationGrace_CoversTheWorkersShutdown_AndTheApisDrain(string name)
    {
        // On SIGTERM the job's token fires at once; the host waits HostOptions.ShutdownTimeout (30 s, .NET's default: the
        // worker does not change it) and Hangfire's server its ShutdownTimeout more, then the hand-back writes run.
        var source = Repository.Read("src", "Worker", "Hosting", "WorkerHostingExtensions.cs");
        Assert.DoesNotContain("HostOptions", source);
        var hangfire = HangfireShutdownSeconds().Matches(source).Select(m => int.Parse(m.Groups["s"].Value)).Max();
        foreach (var workload in Workload.All(Manifests.Render(name)).Where(w => w.IsOptimizer))
        {
            var grace = int.Parse(Kustomization.Text(workload.PodSpec?["terminationGracePeriodSeconds"]) ?? "30");
            var sleep = Kustomization.Strings(workload.Container["lifecycle"]?["preStop"]?["exec"]?["command"]).Skip(1).Select(int.Parse).SingleOrDefault();
            var needed = workload.IsWorker ? 30 + hangfire + 10 : sleep + 30 + 5;
            Assert.True(grace >= needed, $"{workload.Name}: terminationGracePeriodSeconds {grace} < {needed}");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void PreflightMemoryLimit_FitsTheSmallestWorker(string name)
    {
        var workloads = Workload.All(Manifests.Render(name)).Where(w => w.IsOptimizer).ToList();
        var api = workloads.Single(w => w.Component == "api");
        var smallest = workloads.Where(w => w.IsWorker)
            .Min(w => Quantity.Parse(Kustomization.Text(w.Container["resources"]!["limits"]!["memory"])!));

        Assert.True(api.Environment.TryGetValue("Optimizer__WorkerMemoryBytes", out var limit), "the Api would use its own pod's memory");
        // The estimate is an upper bound of a worker's peak RSS (README "Operating at scale"): the limit is the smallest
        // worker's memory less a little page cache — not above it (jobs would be OOM-killed), not far below (refused for nothing).
        Assert.InRange((double)long.Parse(limit), smallest - Gib, smallest - 0.25 * Gib);
    }

    [Fact]
    public void CommittedSecrets_ArePlaceholders_AndTheFilledInFileIsIgnoredByGit()
    {
        var production = Manifests.Render(Manifests.Production);
        var local = Manifests.Render(Manifests.Local);

        Assert.Equal(["secrets.env.example"], production.Substitutions);
        Assert.All(Data(production.Find("Secret", "optimizer-secrets")!).Values, v => Assert.Contains("REPLACE_ME", v));
        Assert.Contains("REPLACE_ME", Data(local.Find("Secret", "optimizer-secrets")!)["Optimizer__AdminKey"]);
        Assert.True(Git.IsIgnored("infra/k8s/overlays/production/secrets.env"), "secrets.env would be committed");
    }

    private static HashSet<string> ServedQueues(IEnumerable<Workload> workloads) =>
        workloads.Where(w => w.IsWorker && w.Replicas > 0).SelectMany(QueuesOf).ToHashSet();

    private static HashSet<string> QueuesOf(Workload worker) =>
        worker.Environment["Worker__Queues"].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();

    /// <summary>The Api's <c>Optimizer:MethodQueues</c>, parsed as the Api does at start-up (an unknown method fails here too).</summary>
    private static MethodQueueRoutes ApiRoutes(IEnumerable<Workload> workloads) =>
        MethodQueueRoutes.Parse(workloads.Single(w => w.Component == "api").Environment.GetValueOrDefault("Optimizer__MethodQueues"), MethodCatalog.All);

    /// <summary>The queues of the methods (their attribute's default and any explicit one) and the gpu queue.</summary>
    private static HashSet<string> Queues()
    {
        var queues = new HashSet<string> { "gpu" };
        foreach (var file in Directory.EnumerateFiles(Repository.PathOf("src"), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match match in QueueAssignment().Matches(File.ReadAllText(file)))
            {
                queues.Add(match.Groups["q"].Value);
            }
        }
        Assert.Contains("cpu", queues);
        return queues;
    }

    private static bool Selects(IReadOnlyDictionary<string, string> selector, JsonObject deployment)
    {
        var labels = Rendering.PodLabels(deployment);
        return selector.Count > 0 && selector.All(l => labels.GetValueOrDefault(l.Key) == l.Value);
    }

    private static Dictionary<string, string> Data(JsonObject secret) =>
        ((JsonObject)secret["data"]!).ToDictionary(p => p.Key, p => Kustomization.Text(p.Value)!);

    [GeneratedRegex("""ShutdownTimeout\s*=\s*TimeSpan\.FromSeconds\((?<s>\d+)\)""")]
    private static partial Regex HangfireShutdownSeconds();

    [GeneratedRegex("""\bQueue\s*(?:\{\s*get;\s*(?:init|set);\s*\})?\s*=\s*"(?<q>[a-z0-9_]+)"\s*;?""")]
    private static partial Regex QueueAssignment();
}
