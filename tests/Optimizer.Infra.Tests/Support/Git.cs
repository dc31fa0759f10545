using System.Diagnostics;

namespace Optimizer.Infra.Tests.Support;

internal static class Git
{
    /// <summary>True when <c>git check-ignore</c> says the (repository-relative) path is ignored.</summary>
    public static bool IsIgnored(string path)
    {
        var info = new ProcessStartInfo("git", ["check-ignore", "-q", path])
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
