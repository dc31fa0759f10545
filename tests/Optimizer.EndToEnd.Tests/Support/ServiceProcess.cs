using System.Diagnostics;
using System.Text;
using Optimizer.Tests.Shared;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>One real service process (Api or Worker) started from its build output, with its output captured.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private bool _disposed;

    private ServiceProcess(Process process, StringBuilder output)
    {
        _process = process;
        _output = output;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>dotnet artifacts/bin/{project}/{configuration}/{project}.dll</c> with <paramref name="environment"/>.</summary>
    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var output = new StringBuilder();
        var process = DotnetProcess.Start(FindBuildOutput(project), environment, line =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }, args);
        return new ServiceProcess(process, output);
    }

    /// <summary>Ends the process the way <c>kill -9</c> does (crash tests) or politely (SIGTERM first, a hard kill after 15 s).</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (kill && !_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return;
        }
        await DotnetProcess.StopAsync(_process, TimeSpan.FromSeconds(15));
    }

    /// <summary>Stops the process (politely) once; a test and its fixture may both dispose it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await StopAsync();
        _process.Dispose();
    }

    internal static string FindBuildOutput(string project)
    {
        var bin = Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "bin", project);
        var candidates = new[] { "debug", "release" }
            .Select(c => Path.Combine(bin, c, project + ".dll"))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .ToList();
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException($"{project} is not built under {bin}: run scripts/test (it builds the solution first).");
    }
}
