namespace Optimizer.Infra.Tests.Kustomize;

/// <summary>Kustomize's <c>images</c> transformer over the pod templates' containers.</summary>
internal static class Images
{
    /// <summary>Renames/retags every container whose image is <paramref name="name"/> (with or without a tag); returns how many.</summary>
    public static int Replace(IEnumerable<JsonObject> objects, string name, string? newName, string? newTag)
    {
        var replaced = 0;
        foreach (var container in objects.SelectMany(Rendering.Containers))
        {
            var (imageName, tag) = Split(Kustomization.Text(container["image"]) ?? "");
            if (imageName != name)
            {
                continue;
            }
            var finalTag = newTag ?? tag;
            container["image"] = (newName ?? imageName) + (finalTag is null ? "" : ":" + finalTag);
            replaced++;
        }
        return replaced;
    }

    /// <summary>"registry:5000/a/b:tag" → ("registry:5000/a/b", "tag"); the tag is after the last colon past the last slash.</summary>
    public static (string Name, string? Tag) Split(string image)
    {
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, null);
    }
}
