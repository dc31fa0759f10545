using Optimizer.Worker.Modeling.Corpora;

namespace Optimizer.Bench.Prune;

/// <summary>Inputs of <c>bench/run prune</c>: the trained fixture and the calibration text; no service needed.</summary>
/// <param name="FixtureDir">Fixture folder (<c>model/</c>, <c>heldout.txt</c>): <c>OPTIMIZER_FIXTURE_DIR</c>, else the newest under <c>.optimizer/fixtures</c>.</param>
/// <param name="CalibrationText">Moby-Dick training chapters (the corpus under <c>OPTIMIZER_CORPUS_DIR</c> or <c>.optimizer/npm/node_modules</c>).</param>
/// <param name="CalibrationSamples">Calibration windows for Wanda and SparseGPT (second argument, default 32).</param>
internal sealed record PruneBenchSettings(string FixtureDir, string CalibrationText, int CalibrationSamples)
{
    public static PruneBenchSettings Load(string root, string[] args)
    {
        var fixture = Environment.GetEnvironmentVariable("OPTIMIZER_FIXTURE_DIR") is { Length: > 0 } set
            ? set
            : new DirectoryInfo(Path.Combine(root, ".optimizer", "fixtures")).EnumerateDirectories()
                .Where(d => File.Exists(Path.Combine(d.FullName, "heldout.txt")))
                .OrderByDescending(d => d.LastWriteTimeUtc).FirstOrDefault()?.FullName
                ?? throw new InvalidOperationException("No fixture under .optimizer/fixtures: run scripts/test once (it builds it) or set OPTIMIZER_FIXTURE_DIR.");
        var corpus = Environment.GetEnvironmentVariable("OPTIMIZER_CORPUS_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(root, ".optimizer", "npm", "node_modules");
        var samples = args.Length > 1 && int.TryParse(args[1], out var n) ? n : 32;
        return new PruneBenchSettings(fixture, MobyDickCorpus.Load(corpus).TrainText, samples);
    }
}
