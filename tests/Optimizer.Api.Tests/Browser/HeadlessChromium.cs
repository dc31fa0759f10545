using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Optimizer.Api.Tests.Browser;

/// <summary>
/// Debian's <c>chromium</c> run headless and driven through the Chrome DevTools Protocol over a WebSocket
/// (System.Net.WebSockets only). <c>scripts/test</c> installs the browser; <c>OPTIMIZER_CHROMIUM</c> names another binary.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ClientWebSocket _socket;
    private readonly string _profile;
    private int _nextId;

    private HeadlessChromium(Process process, ClientWebSocket socket, string profile)
    {
        _process = process;
        _socket = socket;
        _profile = profile;
    }

    public static async Task<HeadlessChromium> StartAsync(int width, int height)
    {
        var binary = Environment.GetEnvironmentVariable("OPTIMIZER_CHROMIUM") is { Length: > 0 } configured ? configured
            : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
            : throw new InvalidOperationException("chromium is not installed: scripts/test installs it (apt-get install chromium).");
        var profile = Directory.CreateTempSubdirectory("optimizer-chromium-").FullName;
        var info = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--remote-debugging-port=0",
            $"--user-data-dir={profile}", $"--window-size={width},{height}", "about:blank",
        })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        try
        {
            var port = await ReadDevToolsPortAsync(process);
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri(await PageSocketUrlAsync(port)), CancellationToken.None);
            var browser = new HeadlessChromium(process, socket, profile);
            await browser.SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile = false });
            return browser;
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>Opens <paramref name="url"/> and waits until the document has loaded.</summary>
    public async Task NavigateAsync(string url)
    {
        await SendAsync("Page.navigate", new { url });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await EvaluateAsync("document.readyState + '|' + location.href")).GetString() is not { } state
            || !state.StartsWith("complete|", StringComparison.Ordinal) || state.EndsWith("about:blank", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{url} did not load in 60 s");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The JSON value of a JavaScript expression evaluated in the page.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true });
        if (result.TryGetProperty("exceptionDetails", out var error))
        {
            throw new InvalidOperationException($"{expression} threw: {error}");
        }
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>A PNG of the viewport (device scale 1: one pixel per CSS pixel).</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    /// <summary>Sends one command and returns its <c>result</c>, skipping the events that arrive in between.</summary>
    public async Task<JsonElement> SendAsync(string method, object parameters)
    {
        var id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters) };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult part;
            do
            {
                part = await _socket.ReceiveAsync(buffer, timeout.Token);
                received.Write(buffer, 0, part.Count);
            }
            while (!part.EndOfMessage);
            using var document = JsonDocument.Parse(received.ToArray());
            var root = document.RootElement;
            if (root.TryGetProperty("id", out var answered) && answered.GetInt32() == id)
            {
                return root.TryGetProperty("error", out var error)
                    ? throw new InvalidOperationException($"{method} failed: {error}")
                    : root.GetProperty("result").Clone();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // The browser is going away anyway.
        }
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A late write of the exiting browser; the temp folder is cleaned eventually.
        }
    }

    private static async Task<int> ReadDevToolsPortAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var seen = new StringBuilder();
        while (await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            if (DevToolsLine().Match(line) is { Success: true } match)
            {
                // Keep draining stderr so the browser never blocks on a full pipe.
                _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
                return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException("chromium exited before opening the DevTools port:\n" + seen);
    }

    private static async Task<string> PageSocketUrlAsync(int port)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var targets = await http.GetFromJsonAsync<JsonElement>("/json/list");
            foreach (var target in targets.EnumerateArray())
            {
                if (target.GetProperty("type").GetString() == "page")
                {
                    return target.GetProperty("webSocketDebuggerUrl").GetString()!;
                }
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("chromium has no page target");
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex DevToolsLine();
}
