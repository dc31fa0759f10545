using Microsoft.Extensions.Hosting;
using Optimizer.Worker.Hosting;

if (args.Length > 0 && args[0] == "fixture")
{
    return await Optimizer.Worker.Fixtures.FixtureCommand.RunAsync(args[1..]);
}

var builder = Host.CreateApplicationBuilder(args);
builder.AddWorkerServices();
using var host = builder.Build();
await host.Services.InitializeWorkerAsync(CancellationToken.None);
await host.RunAsync();
return 0;
