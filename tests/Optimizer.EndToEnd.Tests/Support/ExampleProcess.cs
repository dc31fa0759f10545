using System.Diagnostics;
using System.Text;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>A script or program of the checkout (scripts/up, examples/…) run as a process, its output captured by line.</summary>
internal sealed class ExampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _lines = [];

    private ExampleProcess(Process process)
    {
        _process = process;
    }

    public string Stdout => Locked(() => _stdout.ToString());
    public string Stderr => Locked(() => _stderr.ToString());
    /// <summary>Both streams, for failure messages.</summary>
    public string Output => $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    /// <summary>Starts <paramref name="file"/> (relative to the checkout) from the checkout's root.</summary>
    public static ExampleProcess Start(string file, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(file.EndsWith(".mjs", StringComparison.Ordinal) ? "node" : "bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = TestEnvironment.RepositoryRoot,
        };
        info.ArgumentList.Add(Path.Combine(TestEnvironment.RepositoryRoot, file));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var example = new ExampleProcess(process);
        process.OutputDataReceived += (_, e) => example.Append(example._stdout, e.Data, line: true);
        process.ErrorDataReceived += (_, e) => example.Append(example._stderr, e.Data, line: false);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return example;
    }

    /// <summary>Runs to the end (killed after <paramref name="timeout"/>, which fails the test); returns the exit code.</summary>
    public static async Task<(int ExitCode, ExampleProcess Process)> RunAsync(string file, IReadOnlyDictionary<string, string> environment,
        TimeSpan timeout, params string[] args)
    {
        var example = Start(file, environment, args);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await example._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            example._process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within {timeout}\n{example.Output}");
        }
        // WaitForExitAsync also waits for the redirected streams to reach their end.
        return (example._process.ExitCode, example);
    }

    /// <summary>Waits for a stdout line matching <paramref name="match"/>; fails after <paramref name="timeout"/> or when the process ends.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, Func<string> context)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Locked(() => _lines.FirstOrDefault(match)) is { } line)
            {
                return line;
            }
            Assert.True(DateTime.UtcNow < deadline && !_process.HasExited,
                $"no matching line within {timeout} (exited: {_process.HasExited})\n{Output}\n{context()}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(StringBuilder buffer, string? text, bool line)
    {
        if (text is null)
        {
            return;
        }
        lock (_lines)
        {
            buffer.AppendLine(text);
            if (line)
            {
                _lines.Add(text);
            }
        }
    }

    private T Locked<T>(Func<T> read)
    {
        lock (_lines)
        {
            return read();
        }
    }
}
