using System.Diagnostics;
using Optimizer.Tests.Shared;

namespace Optimizer.Bench.Workers;

/// <summary>One Api or Worker process started from its Release build output, its console written to a log file.</summary>
internal sealed class BenchProcess : IAsyncDisposable
{
    private readonly StreamWriter _log;
    private readonly Lock _lock = new();
    private Process _process = null!;
    private bool _announced;

    private BenchProcess(StreamWriter log)
    {
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
        var service = new BenchProcess(new StreamWriter(logPath) { AutoFlush = true });
        service._process = DotnetProcess.Start(dll, environment, service.Append, args);
        return service;
    }

    /// <summary>SIGTERM (a running job is handed back), then a hard kill after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        await DotnetProcess.StopAsync(_process, TimeSpan.FromSeconds(30));
        _process.Dispose();
        lock (_lock)
        {
            _log.Dispose();
        }
    }

    private void Append(string line)
    {
        lock (_lock)
        {
            _log.WriteLine(line);
            _announced |= line.Contains(":worker:", StringComparison.Ordinal) && line.Contains("successfully announced", StringComparison.Ordinal);
        }
    }
}
