using Optimizer.Infra.Tests.Kustomize;
using Optimizer.Infra.Tests.Support;

namespace Optimizer.Infra.Tests;

/// <summary>Every Deployment of every kustomization: probes, resources, non-root, labels, and the settings the apps read.</summary>
public sealed class WorkloadTests
{
    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void Deployments_SelectTheirOwnPods_AndRunAsNonRootWithoutPrivilegeEscalation(string name)
    {
        foreach (var workload in Workload.All(Manifests.Render(name)))
        {
            var selector = Rendering.Labels(workload.Deployment["spec"]?["selector"]?["matchLabels"]);
            var labels = Rendering.PodLabels(workload.Deployment);
            Assert.NotEmpty(selector);
            Assert.All(selector, l => Assert.True(labels.GetValueOrDefault(l.Key) == l.Value, $"{workload.Name}: the selector {l} does not match its pods"));
            var pod = workload.PodSpec?["securityContext"];
            Assert.True(Kustomization.Text(pod?["runAsNonRoot"]) == "true", $"{workload.Name}: runAsNonRoot is not true");
            Assert.True(int.TryParse(Kustomization.Text(pod?["runAsUser"]), out var uid) && uid > 0, $"{workload.Name}: runAsUser is not a non-root uid");
            Assert.True(Kustomization.Text(workload.Container["securityContext"]?["allowPrivilegeEscalation"]) == "false",
                $"{workload.Name}: allowPrivilegeEscalation is not false");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void Containers_RequestAndLimitCpuAndMemory(string name)
    {
        foreach (var workload in Workload.All(Manifests.Render(name)))
        {
            foreach (var bound in new[] { "requests", "limits" })
            {
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    var value = Kustomization.Text(workload.Container["resources"]?[bound]?[resource]);
                    Assert.True(value is not null && Quantity.Parse(value) > 0, $"{workload.Name}: resources.{bound}.{resource} is missing");
                }
            }
            var request = Quantity.Parse(Kustomization.Text(workload.Container["resources"]!["requests"]!["memory"])!);
            var limit = Quantity.Parse(Kustomization.Text(workload.Container["resources"]!["limits"]!["memory"])!);
            Assert.True(request <= limit, $"{workload.Name}: memory request above its limit");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void OptimizerContainers_ProbeReadyzAndHealthz_OnThePortTheAppListensOn(string name)
    {
        var workloads = Workload.All(Manifests.Render(name)).Where(w => w.IsOptimizer).ToList();
        Assert.NotEmpty(workloads);
        foreach (var workload in workloads)
        {
            // The Api listens on the image's ASPNETCORE_HTTP_PORTS (8080); the worker's probes on Worker__HealthPort.
            var port = workload.IsWorker ? int.Parse(workload.Environment.GetValueOrDefault("Worker__HealthPort", "0")) : 8080;
            Assert.Equal("/readyz", HttpProbePath(workload, "readinessProbe", port));
            Assert.Equal("/healthz", HttpProbePath(workload, "livenessProbe", port));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void OtherContainers_HaveReadinessAndLivenessProbes(string name)
    {
        foreach (var workload in Workload.All(Manifests.Render(name)).Where(w => !w.IsOptimizer))
        {
            Assert.True(workload.Container["readinessProbe"] is JsonObject, $"{workload.Name}: no readinessProbe");
            Assert.True(workload.Container["livenessProbe"] is JsonObject, $"{workload.Name}: no livenessProbe");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Containers_GetEveryRequiredSetting_AndOnlySettingsTheAppReads(string name)
    {
        foreach (var workload in Workload.All(Manifests.Render(name)).Where(w => w.IsOptimizer))
        {
            var (reads, required) = workload.IsWorker
                ? (AppConfiguration.Worker, new[] { "ConnectionStrings__Postgres", "ConnectionStrings__Blob", "Worker__Queues", "Worker__HealthPort" })
                : (AppConfiguration.Api, new[] { "ConnectionStrings__Postgres", "ConnectionStrings__Blob", "Optimizer__AdminKey" });
            Assert.All(required, key => Assert.True(workload.Environment.ContainsKey(key), $"{workload.Name}: {key} is not set"));
            // Shared ConfigMap/Secret keys reach both apps; each must be read by at least one, explicit env by this one.
            var known = AppConfiguration.Api.Union(AppConfiguration.Worker).ToHashSet();
            Assert.All(workload.Environment.Keys, key => Assert.True(known.Contains(key), $"{workload.Name}: {key} is read by neither app"));
            Assert.All(Kustomization.Items(workload.Container["env"]).Select(e => Kustomization.Text(e["name"])!),
                key => Assert.True(reads.Contains(key), $"{workload.Name}: {key} is not read by this app"));
        }
    }

    [Fact]
    public void AppConfiguration_FindsTheKeysTheAppsRead()
    {
        // Guards the source scan itself: if it found nothing, the check above would pass vacuously.
        Assert.Contains("ConnectionStrings__Postgres", AppConfiguration.Api);
        Assert.Contains("Optimizer__AdminKey", AppConfiguration.Api);
        Assert.Contains("Optimizer__RateLimit__PermitsPerMinute", AppConfiguration.Api);
        Assert.Contains("Optimizer__Webhooks__AllowPrivateNetworks", AppConfiguration.Api);
        Assert.Contains("Worker__Queues", AppConfiguration.Worker);
        Assert.Contains("Worker__HealthPort", AppConfiguration.Worker);
        Assert.Contains("Optimizer__BlobContainer", AppConfiguration.Worker);
        Assert.DoesNotContain("Optimizer__AdminKey", AppConfiguration.Worker);
        Assert.DoesNotContain("Worker__Queues", AppConfiguration.Api);
    }

    /// <summary>The probe's httpGet path, after checking that its port (name or number) is <paramref name="port"/>.</summary>
    private static string? HttpProbePath(Workload workload, string probe, int port)
    {
        var get = workload.Container[probe]?["httpGet"];
        Assert.True(get is JsonObject, $"{workload.Name}: {probe} is not an httpGet probe");
        var reference = Kustomization.Text(get["port"])!;
        var resolved = int.TryParse(reference, out var number)
            ? number
            : Kustomization.Items(workload.Container["ports"]).Where(p => Kustomization.Text(p["name"]) == reference)
                .Select(p => int.Parse(Kustomization.Text(p["containerPort"])!)).SingleOrDefault();
        Assert.True(resolved == port, $"{workload.Name}: {probe} probes port {reference}, the app listens on {port}");
        return Kustomization.Text(get["path"]);
    }
}
