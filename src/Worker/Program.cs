using Optimizer.Worker.Fixtures;

// Minimal entry point for the modeling branch; the runtime branch's Program.cs (the Hangfire host) replaces
// it and keeps this dispatch.
if (args.Length > 0 && args[0] == "fixture")
{
    return await FixtureCommand.RunAsync(args);
}
Console.WriteLine("worker");
return 0;
