namespace Optimizer.Worker.Fixtures;

/// <summary>TEMPORARY stand-in until the modeling branch (which owns the fixture command) is merged.</summary>
public static class FixtureCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("fixture: not available in this build (modeling branch not merged yet).");
        return Task.FromResult(2);
    }
}
