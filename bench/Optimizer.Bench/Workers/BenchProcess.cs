using System.Diagnostics;

namespace Optimizer.Bench.Workers;

/// <summary>One Api or Worker process started from its Release build output, its console written to a log file.</summary>
internal sealed class BenchProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _lock = new();
    private bool _announced;

    private BenchProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>True once a Hangfire server for the job queues has announced itself (the worker fetches from then on).</summary>
    public bool Serving
    {
        get
        {
            lock (_lock)
            {
                return _announced;
            }
        }
    }

    public static BenchProcess Start(string dll, IReadOnlyDictionary<string, string> environment, string logPath, params string[] args)
    {
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
        var process = new Process { StartInfo = info };
        var service = new BenchProcess(process, new StreamWriter(logPath) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>SIGTERM (a running job is handed back), then a hard kill after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        lock (_lock)
        {
            _log.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lock)
        {
            _log.WriteLine(line);
            _announced |= line.Contains(":worker:", StringComparison.Ordinal) && line.Contains("successfully announced", StringComparison.Ordinal);
        }
    }
}
