using System.Diagnostics;
using System.Text;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>One real service process (Api or Worker) started from its build output, with its output captured.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private bool _disposed;

    private ServiceProcess(Process process)
    {
        _process = process;
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
        var dll = FindBuildOutput(project);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Ends the process the way <c>kill -9</c> does (crash tests) or politely (SIGTERM first).</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (_process.HasExited)
        {
            return;
        }
        if (!kill)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
                return;
            }
            catch (OperationCanceledException)
            {
                // Fall through to a hard kill.
            }
        }
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
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
