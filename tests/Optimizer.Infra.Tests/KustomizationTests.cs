using Optimizer.Infra.Tests.Kustomize;
using Optimizer.Infra.Tests.Support;

namespace Optimizer.Infra.Tests;

/// <summary>The manifests parse, the kustomizations resolve, and overlays render the objects a deployment needs.</summary>
public sealed class KustomizationTests
{
    [Fact]
    public void EveryManifest_ParsesAsYaml_WithApiVersionAndKind()
    {
        var files = Directory.EnumerateFiles(Manifests.Folder(""), "*.yaml", SearchOption.AllDirectories).ToList();

        Assert.True(files.Count >= 10, $"only {files.Count} YAML files under infra/k8s");
        foreach (var file in files)
        {
            var documents = Yaml.LoadDocuments(file);
            Assert.NotEmpty(documents);
            Assert.All(documents, d => Assert.False(
                Kustomization.Text(d["apiVersion"]) is null || Kustomization.Text(d["kind"]) is null, $"{file}: a document lacks apiVersion or kind"));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.All), MemberType = typeof(Manifests))]
    public void Kustomization_Renders_TheApiServiceHpaAndCpuWorker(string name)
    {
        var rendering = Manifests.Render(name);

        Assert.NotNull(rendering.Find("Deployment", "optimizer-api"));
        Assert.NotNull(rendering.Find("Service", "optimizer-api"));
        Assert.NotNull(rendering.Find("HorizontalPodAutoscaler", "optimizer-api"));
        Assert.NotNull(rendering.Find("Deployment", "optimizer-worker-cpu"));
        Assert.NotNull(rendering.Find("ConfigMap", "optimizer-config"));
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Overlay_PutsEverythingInItsNamespace_AndGeneratesTheSecret(string name)
    {
        var rendering = Manifests.Render(name);

        var ns = Assert.Single(rendering.OfKind("Namespace"));
        Assert.All(rendering.Objects.Where(o => Kustomization.Text(o["kind"]) != "Namespace"),
            o => Assert.Equal(Rendering.Name(ns), Kustomization.Text(o["metadata"]!["namespace"])));
        Assert.NotNull(rendering.Find("Secret", "optimizer-secrets"));
    }

    [Fact]
    public void LocalOverlay_DropsTheGpuWorker_AndRunsItsOwnPostgresAndAzurite()
    {
        var rendering = Manifests.Render(Manifests.Local);

        Assert.Null(rendering.Find("Deployment", "optimizer-worker-gpu"));
        Assert.NotNull(rendering.Find("Deployment", "postgres"));
        Assert.NotNull(rendering.Find("Deployment", "azurite"));
        Assert.Equal("1", Kustomization.Text(rendering.Find("Deployment", "optimizer-api")!["spec"]!["replicas"]));
    }

    [Fact]
    public void ProductionOverlay_PointsEveryOptimizerImageAtTheRegistry_WithAPinnedTag()
    {
        var rendering = Manifests.Render(Manifests.Production);

        var images = Workload.All(rendering).Where(w => w.IsOptimizer).Select(w => Kustomization.Text(w.Container["image"])!).ToList();
        Assert.Equal(3, images.Count);
        Assert.All(images, image =>
        {
            var (name, tag) = Images.Split(image);
            Assert.Contains("/", name);
            Assert.False(tag is null or "latest", $"{image}: pin a version");
        });
    }

    [Fact]
    public void Renderer_RejectsAPatchWhoseTargetDoesNotExist()
    {
        using var folder = new TempKustomization();
        folder.Write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [{base}]\npatches:\n  - path: p.yaml\n");
        folder.Write("p.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: optimizer-worker-typo\nspec:\n  replicas: 1\n");

        var error = Assert.Throws<InvalidDataException>(() => Kustomization.Render(folder.Path));
        Assert.Contains("Deployment/optimizer-worker-typo", error.Message);
    }

    [Fact]
    public void Renderer_RejectsAMissingResource_AndAnImageEntryThatMatchesNoContainer()
    {
        using var missing = new TempKustomization();
        missing.Write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [{base}, gone.yaml]\n");
        using var image = new TempKustomization();
        image.Write("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [{base}]\nimages:\n  - name: optimizer-apii\n    newTag: \"2\"\n");

        Assert.Contains("gone.yaml", Assert.Throws<InvalidDataException>(() => Kustomization.Render(missing.Path)).Message);
        Assert.Contains("optimizer-apii", Assert.Throws<InvalidDataException>(() => Kustomization.Render(image.Path)).Message);
    }
}
