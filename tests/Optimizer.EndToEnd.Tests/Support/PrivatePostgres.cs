using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Optimizer.EndToEnd.Tests.Support;

/// <summary>
/// A throw-away PostgreSQL cluster that a test can stop and start (fault injection): created with <c>initdb</c> in a
/// temporary folder, on a free loopback port, the way <c>infra/local/lib.sh</c> runs the suite's own (as the
/// <c>postgres</c> user when the tests run as root, because initdb refuses root).
/// </summary>
internal sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _data;

    private PrivatePostgres(string root, int port)
    {
        _root = root;
        _data = Path.Combine(root, "data");
        Port = port;
        ServerConnection = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=50";
    }

    public int Port { get; }

    /// <summary>A connection string to the server's <c>postgres</c> database (what <c>OPTIMIZER_TEST_PG</c> is for the shared one).</summary>
    public string ServerConnection { get; }

    public static async Task<PrivatePostgres> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("optimizer-pg-").FullName;
        var server = new PrivatePostgres(root, FreePort());
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", "postgres:", root);
        }
        await server.RunPgAsync("initdb", "-D", server._data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8");
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Starts the stopped server and waits until it accepts connections.</summary>
    public async Task StartServerAsync()
    {
        await RunPgAsync("pg_ctl", "-D", _data, "-w", "-t", "60", "-l", Path.Combine(_root, "postgres.log"),
            "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_data} -c max_connections=200 -c fsync=off", "start");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ServerConnection + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>Stops the server the way an operator's restart does (<c>pg_ctl -m fast stop</c>: clients are disconnected).</summary>
    public Task StopServerAsync() => RunPgAsync("pg_ctl", "-D", _data, "-m", "fast", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunPgAsync("pg_ctl", "-D", _data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Not running: nothing to stop.
        }
        Directory.Delete(_root, recursive: true);
    }

    private Task RunPgAsync(string tool, params string[] args)
    {
        var path = Path.Combine(TestEnvironment.PostgresBin, tool);
        return Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", path, .. args]) : RunAsync(path, args);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        // Read both streams while waiting: pg_ctl's server inherits them, so wait for the tool, not for end of stream.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
