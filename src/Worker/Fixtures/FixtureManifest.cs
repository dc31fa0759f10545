using System.Text.Json;
using Optimizer.Domain.Common;

namespace Optimizer.Worker.Fixtures;

/// <summary>The <c>fixture.json</c> written beside a trained fixture model: how it was made and how good it is.</summary>
public sealed record FixtureManifest
{
    public const string FileName = "fixture.json";
    public const string ModelFolderName = "model";
    public const string HeldOutFileName = "heldout.txt";

    public required FixtureRecipe Recipe { get; init; }
    public required string RecipeHash { get; init; }
    public required long ParameterCount { get; init; }
    public required int TrainTokens { get; init; }
    public required int HeldOutTokens { get; init; }
    public required double TrainSeconds { get; init; }
    /// <summary>Held-out perplexity per ALGORITHMS.md Part C 5.2 at <see cref="EvalSequenceLength"/>.</summary>
    public required double HeldOutPerplexity { get; init; }
    public required int EvalSequenceLength { get; init; }
    public required int EvalWindows { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    public static FixtureManifest Load(string fixtureDirectory) =>
        JsonSerializer.Deserialize<FixtureManifest>(File.ReadAllText(Path.Combine(fixtureDirectory, FileName)), OptimizerJson.Options)
        ?? throw new InvalidDataException($"{fixtureDirectory}/{FileName} is empty");

    public void Save(string fixtureDirectory) =>
        File.WriteAllText(Path.Combine(fixtureDirectory, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions(OptimizerJson.Options) { WriteIndented = true }));
}
