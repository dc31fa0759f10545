using System.Diagnostics;
using System.Text.Json;

namespace Optimizer.Infra.Tests.Support;

/// <summary>Items of an evaluated project (<c>dotnet msbuild -getItem</c>): what MSBuild sees, conditions applied.</summary>
internal static class MsBuild
{
    public sealed record Item(string Identity, IReadOnlyDictionary<string, string> Metadata);

    public static IReadOnlyList<Item> Items(string project, string itemType, params string[] properties)
    {
        var info = new ProcessStartInfo("dotnet", ["msbuild", project, $"-getItem:{itemType}", "-nologo", .. properties])
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet msbuild -getItem:{itemType} failed: {error}{output.Result}");
        using var json = JsonDocument.Parse(output.Result);
        return
        [
            .. json.RootElement.GetProperty("Items").GetProperty(itemType).EnumerateArray().Select(item => new Item(
                item.GetProperty("Identity").GetString()!,
                item.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                    .ToDictionary(p => p.Name, p => p.Value.GetString()!))),
        ];
    }
}
