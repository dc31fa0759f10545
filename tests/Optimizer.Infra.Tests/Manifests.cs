using Optimizer.Infra.Tests.Kustomize;
using Optimizer.Infra.Tests.Support;

namespace Optimizer.Infra.Tests;

/// <summary>The kustomization folders under <c>infra/k8s</c>, rendered once per test run.</summary>
internal static class Manifests
{
    public const string Base = "base";
    public const string Local = "overlays/local";
    public const string Production = "overlays/production";

    /// <summary>The overlays a user applies (<c>kubectl apply -k infra/k8s/overlays/…</c>).</summary>
    public static TheoryData<string> Overlays => [Local, Production];

    /// <summary>Base and overlays.</summary>
    public static TheoryData<string> All => [Base, Local, Production];

    public static string Folder(string name) => Repository.PathOf("infra", "k8s", name);

    /// <summary>Renders a kustomization; base gets the Secret every overlay generates (keys of secrets.env.example).</summary>
    public static Rendering Render(string name)
    {
        var rendering = Kustomization.Render(Folder(name));
        if (name != Base)
        {
            return rendering;
        }
        var data = new JsonObject();
        foreach (var line in File.ReadLines(Path.Combine(Folder(Production), "secrets.env.example")).Where(l => l.Contains('=') && !l.StartsWith('#')))
        {
            data[line[..line.IndexOf('=')]] = line[(line.IndexOf('=') + 1)..];
        }
        var secret = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = "optimizer-secrets" }, ["data"] = data };
        return rendering with { Objects = [.. rendering.Objects, secret] };
    }
}
