using System.Diagnostics;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>all-MiniLM-L6-v2 imported by the built Worker's <c>minilm</c> command (seconds; cached in the temp folder).</summary>
internal static class MiniLmModel
{
    public static async Task<string> ImportAsync(CancellationToken cancellationToken)
    {
        var dll = ServiceProcess.FindBuildOutput("Optimizer.Worker");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var arg in new[] { dll, "minilm", "--out", Path.Combine(Path.GetTempPath(), "optimizer-e2e-minilm") })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(process.ExitCode == 0 && lines.Length > 0, $"worker minilm failed ({process.ExitCode}): {await stderr}");
        Assert.True(File.Exists(Path.Combine(lines[^1], "config.json")), $"no model at {lines[^1]}");
        return lines[^1];
    }
}
